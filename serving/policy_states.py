"""The dialogue states the policies read, worked out once per new event of a conversation instead of at every call.

For each next action (2-3 a turn), MemoizationPolicy asks `Domain.states_for_tracker_history` for the tracker's
states once, and RulePolicy once or twice (from the latest message's text, then from its intent), with other
arguments. Each call replays the whole conversation: Rasa works out which events apply (`applied_events`), copies the
slots into a blank tracker (`init_copy`), applies the events to it one by one and reads its state before each action
(`generate_all_prior_trackers`). That is about 145 us a call on a 26-event conversation, more as it grows: half of a
prediction's time.

Here each conversation's replay is kept (per tracker and domain object): the blank tracker as it stands after the
events applied so far, and its state before each action. A call takes the states for its own arguments from those by
Rasa's own loop, on fresh copies (callers change the states they are given), so the policies' second and third
calls replay nothing, and a conversation that has only grown is replayed from its new events on (which of them
apply is worked out by Rasa's own steps, from where the last call left off). Measured on the test stories with the
policies of config.yml, the median prediction takes 250 us instead of 570 us on a 26-event conversation after a
message, 70 us instead of 225 us in a form; as conversations grow event by event, 290 us instead of 550 us at 20-29
events and 315 us instead of 720 us at 50-59 (what is left is mostly RulePolicy matching its rules).

The kept replay goes on only where Rasa's would give the same; otherwise it starts again from the first event:
- the applied events must begin with those replayed (they do not after a new session, a rewind, or a form's next
  turn: Rasa then drops the form's previous turn);
- the tracker must be the same object with the same slot objects (a copy of a tracker has its own replay);
- each user message that the replay read or changed must be as it was read or left. After a message is logged, Rasa
  changes how it is featurized (`DefinePrevUserUtteredFeaturization`, which the processor applies first to a copy of
  the tracker that shares the message) and its entities (`EntitiesAdded`). Nothing else that the states depend on
  changes once made, in Rasa 3.6 or in this project: a message's other parts, other events, the values they set,
  slot definitions, the domain.
A message featurized again after an action read it (Rasa's processor featurizes each message once) makes the replay
start again at every call: slower, never wrong. Rasa's own function answers for `omit_unset_slots` (training only),
for trackers of a subclass (training's `TrackerWithCachedStates`), and when a state holds anything but text, numbers
and tuples of them. At most `MAX_TRACKERS` replays are kept, the least recently used dropped first; one takes about
16 KB at 26 events (a blank tracker and a state per action). Not thread-safe: Rasa predicts in its event loop's
thread only.
"""

from __future__ import annotations

import weakref
from collections import OrderedDict
from collections.abc import Iterable
from itertools import islice
from operator import is_
from typing import Any

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    Event,
    Restarted,
    SessionStarted,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

MAX_TRACKERS = 256

_rasa_states_for_tracker_history = Domain.states_for_tracker_history
_PLAIN = (str, int, float, bool, type(None))


class _NotPlain(Exception):
    """A state holds a value that may change (not text, a number or a tuple of them): it is not kept."""


def _seen(message: UserUttered | None) -> tuple[Any, ...]:
    """What the states may read of a message and Rasa may change after it is logged."""
    if message is None:
        return (None,)
    return message.use_text_for_featurization, tuple(message.entities)


def _check_plain(state: State) -> None:
    for sub_state in state.values():
        if type(sub_state) is not dict:
            raise _NotPlain()
        for value in sub_state.values():
            if not isinstance(value, _PLAIN) and not (
                type(value) is tuple and all(isinstance(item, _PLAIN) for item in value)
            ):
                raise _NotPlain()


def _loop_names(events: Iterable[Event]) -> set[str]:
    """The loops that `DialogueStateTracker.applied_events` finds in the events."""
    return {event.name for event in events if isinstance(event, ActiveLoop) and event.name}


def _applied_events(
    tracker: DialogueStateTracker, applied_events: list[Event], events: Iterable[Event], loop_names: set[str]
) -> list[Event]:
    """`DialogueStateTracker.applied_events`, continued from its result for the tracker's earlier events (the
    loops in all of its events being `loop_names`): Rasa's loop, step for step, over the events added since."""
    for event in events:
        if isinstance(event, (Restarted, SessionStarted)):
            applied_events = []
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied_events)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied_events)
            tracker._undo_till_previous(ActionExecuted, applied_events)
        elif (
            isinstance(event, ActionExecuted)
            and event.action_name in loop_names
            and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied_events)
        ):
            tracker._undo_till_previous_loop_execution(event.action_name, applied_events)
        else:
            applied_events.append(event)
    return applied_events


class _Turn:
    """The replayed tracker before an action (or after the last event): what `states_for_tracker_history` reads."""

    __slots__ = ("hide_rule_turn", "state", "action", "followup_action", "action_name", "loop_name", "message",
                 "seen")

    def __init__(self, domain: Domain, tracker: DialogueStateTracker, hide_rule_turn: bool) -> None:
        self.hide_rule_turn = hide_rule_turn
        self.state = domain.get_active_state(tracker)
        _check_plain(self.state)
        self.action = domain._get_prev_action_sub_state(tracker)
        self.followup_action = tracker.followup_action
        self.action_name = tracker.latest_action_name
        self.loop_name = tracker.active_loop_name
        self.message = tracker.latest_message
        self.seen = _seen(self.message)


class _Replay:
    """One conversation's events replayed as `DialogueStateTracker.generate_all_prior_trackers` does, kept."""

    def __init__(self, domain: Domain, tracker: DialogueStateTracker) -> None:
        self.tracker = weakref.ref(tracker)
        self.domain = domain
        self.slots = tuple(tracker.slots.values())
        self.is_rule_tracker = tracker.is_rule_tracker
        self._start(tracker)

    def _start(self, tracker: DialogueStateTracker) -> None:
        self.events: list[Event] = []
        self.applied: list[Event] = []
        self.loop_names: set[str] = set()
        # The blank tracker (`init_copy`, as Rasa's replay starts from) after the applied events so far.
        self.blank = tracker.init_copy()
        self.turns: list[_Turn] = []
        self.final = _Turn(self.domain, self.blank, False)
        # The messages the replay read before an action or changed (by a featurization or entities event), each with
        # what it read or left: for the kept turns and the blank tracker to hold, each must still be so.
        self.messages: list[tuple[UserUttered, tuple[Any, ...]]] = []

    def fits(self, tracker: DialogueStateTracker) -> bool:
        """Whether this replay is of this tracker: the same object, with the same slots."""
        slots = tracker.slots
        return (
            self.tracker() is tracker
            and self.is_rule_tracker == tracker.is_rule_tracker
            and len(slots) == len(self.slots)
            and all(map(is_, slots.values(), self.slots))
        )

    def turns_for(self, tracker: DialogueStateTracker) -> list[_Turn]:
        """The tracker's state before each action it applies, and after its last event."""
        events = tracker.events
        unchanged = all(_seen(message) == seen for message, seen in self.messages)
        done = len(self.events)
        grown = len(events) >= done and all(map(is_, self.events, events))
        if unchanged and grown and len(events) == done:
            if _seen(self.blank.latest_message) != self.final.seen:
                self.final = _Turn(self.domain, self.blank, False)
            return [*self.turns, self.final]

        applied = None
        if grown:
            new = list(islice(events, done, None))
            if _loop_names(new) <= self.loop_names:
                applied = _applied_events(tracker, list(self.applied), new, self.loop_names)
        if applied is None:
            loop_names = _loop_names(events)
            applied = tracker.applied_events()
        else:
            loop_names = self.loop_names

        done = len(self.applied)
        if not (unchanged and len(applied) >= done and all(map(is_, self.applied, applied))):
            self._start(tracker)
            done = 0
        for event in applied[done:]:
            if isinstance(event, ActionExecuted):
                turn = _Turn(self.domain, self.blank, event.hide_rule_turn)
                self.turns.append(turn)
                self._remember(turn.message, turn.seen)
            self.blank.update(event)
            if isinstance(event, (DefinePrevUserUtteredFeaturization, EntitiesAdded)):
                self._remember(self.blank.latest_message, _seen(self.blank.latest_message))
        self.final = _Turn(self.domain, self.blank, False)
        self.events = list(events)
        self.applied = applied
        self.loop_names = loop_names
        return [*self.turns, self.final]

    def _remember(self, message: UserUttered | None, seen: tuple[Any, ...]) -> None:
        if message is None or (self.messages and self.messages[-1][0] is message and self.messages[-1][1] == seen):
            return
        self.messages.append((message, seen))


_replays: OrderedDict[tuple[int, int], _Replay] = OrderedDict()


def _turns(domain: Domain, tracker: DialogueStateTracker) -> list[_Turn]:
    # The replay holds the domain, so no other domain can have its id; the tracker may be gone, and its id reused.
    key = (id(tracker), id(domain))
    # Taken out while in use: a replay cut short (by an error, or a state that is not kept) is not put back.
    replay = _replays.pop(key, None)
    if replay is None or not replay.fits(tracker):
        replay = _Replay(domain, tracker)
    turns = replay.turns_for(tracker)
    _replays[key] = replay
    if len(_replays) > MAX_TRACKERS:
        _replays.popitem(last=False)
    return turns


def states_for_tracker_history(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: dict[str, Any] | None = None,
) -> list[State]:
    """`Domain.states_for_tracker_history`, from the tracker's kept replay: the same states, fresh copies."""
    if omit_unset_slots or type(tracker) is not DialogueStateTracker:
        return _rasa_states_for_tracker_history(
            self, tracker, omit_unset_slots=omit_unset_slots, ignore_rule_only_turns=ignore_rule_only_turns,
            rule_only_data=rule_only_data)
    try:
        turns = _turns(self, tracker)
    except _NotPlain:
        return _rasa_states_for_tracker_history(
            self, tracker, ignore_rule_only_turns=ignore_rule_only_turns, rule_only_data=rule_only_data)

    # Rasa's loop (`Domain.states_for_tracker_history`), reading the kept turns instead of replaying the tracker.
    states: list[State] = []
    last_ml_action_sub_state = None
    turn_was_hidden = False
    for turn in turns:
        if ignore_rule_only_turns:
            if not turn_was_hidden:
                last_ml_action_sub_state = turn.action
            if not turn.followup_action and not turn.action_name == turn.loop_name:
                turn_was_hidden = turn.hide_rule_turn
            if turn_was_hidden:
                continue

        # A copy of each part: callers change the states they are given. (Rasa's states share no part but the
        # user's, which `_substitute_rule_only_user_input` shares here as well.)
        state = {state_type: dict(sub_state) for state_type, sub_state in turn.state.items()}

        if ignore_rule_only_turns:
            self._remove_rule_only_features(state, rule_only_data)
            if states:
                self._substitute_rule_only_user_input(state, states[-1])
            if last_ml_action_sub_state:
                state[PREVIOUS_ACTION] = dict(last_ml_action_sub_state)

        states.append(self._clean_state(state))

    return states


def install() -> None:
    """Make the domain (and so the trackers' `past_states` and the policies) answer from the kept replays."""
    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[assignment]


def uninstall() -> None:
    """Give Rasa's own `states_for_tracker_history` back and forget the kept replays."""
    Domain.states_for_tracker_history = _rasa_states_for_tracker_history  # type: ignore[assignment]
    _replays.clear()
