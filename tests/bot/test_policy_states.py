"""The policies' dialogue states kept per conversation (serving/policy_states.py) are Rasa's own: the same
predictions and the same states (values, and which parts of them are shared) as Rasa's replay, whatever changed."""

from __future__ import annotations

import asyncio
import copy
import os
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionExecutionRejected,
    ActionReverted,
    ActiveLoop,
    AllSlotsReset,
    BotUttered,
    DefinePrevUserUtteredFeaturization,
    EntitiesAdded,
    FollowupAction,
    LoopInterrupted,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from serving import policy_states

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ["There is a big pothole on Elm Street", "the bus driver on route 7 was so kind to my mother",
            "what's happening with C-7KX2M9Q", "45 Elm Street", "yes", "help", "I want to talk to a person",
            "Il y a un nid-de-poule devant chez moi", "cancel", "thanks, bye"]


def model() -> str:
    path = os.environ.get("INTAKE_MODEL")
    if not path:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`")
    return path


@pytest.fixture()
def install_cache():
    """Rasa's own `states_for_tracker_history` until the test calls the fixture's value, which installs the kept
    replays; Rasa's own again after the test."""
    policy_states.uninstall()
    yield policy_states.install
    policy_states.uninstall()


def shape(states: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[list[int]]]:
    """The states' values, and which of their parts are one and the same object (callers change them in place)."""
    first: dict[int, int] = {}
    shared = [[first.setdefault(id(part), len(first)) for part in state.values()] for state in states]
    return copy.deepcopy(states), shared


# Through the trained model ------------------------------------------------------------------------------------------

def policies(agent: Agent) -> tuple[MemoizationPolicy, RulePolicy]:
    components = [node._component for node in agent.processor.graph_runner._instantiated_nodes.values()]
    return (next(c for c in components if type(c) is MemoizationPolicy),
            next(c for c in components if type(c) is RulePolicy))


def new_tracker(agent: Agent, sender_id: str) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        sender_id, [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)],
        agent.processor.domain.slots)


def predict_and_log(agent: Agent, tracker: DialogueStateTracker, seen: list, action: Callable[[str], str]) -> str:
    """Predict the next action, note the prediction and every set of states the policies could ask for, and log
    the action as Rasa's processor does (the prediction's events reach a copy of the tracker for the action first,
    then the tracker); `action(predicted)` is the action run."""
    domain = agent.processor.domain
    memoization, rules = policies(agent)
    rule_only = rules._get_rule_only_data()
    prediction = agent.processor._predict_next_with_tracker(tracker)
    predicted = domain.action_names_or_texts[prediction.max_confidence_index]
    seen.append((
        len(tracker.events), predicted, prediction.max_confidence, prediction.policy_name, prediction.probabilities,
        [str(event) for event in prediction.events], prediction.hide_rule_turn, prediction.is_end_to_end_prediction,
        shape(tracker.past_states(domain)),
        shape(tracker.past_states(domain, ignore_rule_only_turns=True, rule_only_data=rule_only)),
        shape(memoization._prediction_states(tracker, domain, rule_only_data=rule_only)),
        shape(rules._prediction_states(tracker, domain, True, rule_only_data=rule_only)),
        shape(rules._prediction_states(tracker, domain, False, rule_only_data=rule_only)),
    ))
    tracker.copy().update_with_events(prediction.events, domain)
    tracker.update_with_events(prediction.events, domain)
    run = action(predicted)
    tracker.update(ActionExecuted(run, prediction.policy_name, prediction.max_confidence,
                                  hide_rule_turn=prediction.hide_rule_turn))
    return predicted


def conversations(agent: Agent) -> list:
    """Every test story (tests/stories) followed event by event with a prediction before each action, and a
    conversation of messages understood by the model with the actions the model decides on."""
    domain = agent.processor.domain
    seen: list = []
    for path in sorted((ROOT / "tests" / "stories").glob("*.yml")):
        for number, story in enumerate(YAMLStoryReader(domain).read_from_file(str(path))):
            tracker = new_tracker(agent, f"{path.stem}-{number}")
            for event in story.events:
                if isinstance(event, UserUttered) and tracker.latest_action_name != ACTION_LISTEN_NAME:
                    predict_and_log(agent, tracker, seen, lambda _: ACTION_LISTEN_NAME)
                if isinstance(event, ActionExecuted):
                    predict_and_log(agent, tracker, seen, lambda _, name=event.action_name: name)
                else:
                    tracker.update(event)
            if tracker.latest_action_name != ACTION_LISTEN_NAME:
                predict_and_log(agent, tracker, seen, lambda _: ACTION_LISTEN_NAME)

    tracker = new_tracker(agent, "messages")
    for text in MESSAGES:
        parsed = asyncio.run(agent.parse_message(text))
        tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
        for _ in range(4):
            if predict_and_log(agent, tracker, seen, lambda predicted: predicted) == ACTION_LISTEN_NAME:
                break
        else:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    return seen


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(model())


def test_predictions_and_states_are_rasas_over_real_conversations(agent, install_cache, monkeypatch):
    replays = {"rasa": 0, "kept": 0}
    rasa_replay = DialogueStateTracker.generate_all_prior_trackers
    start = policy_states._Replay._start

    def counted_rasa_replay(self):
        replays["rasa"] += 1
        return rasa_replay(self)

    def counted_start(self, tracker):
        replays["kept"] += 1
        return start(self, tracker)

    monkeypatch.setattr(DialogueStateTracker, "generate_all_prior_trackers", counted_rasa_replay)
    monkeypatch.setattr(policy_states._Replay, "_start", counted_start)

    expected = conversations(agent)
    rasa_calls = replays["rasa"]
    install_cache()
    replays["rasa"] = 0
    assert conversations(agent) == expected

    assert len(expected) > 250
    assert "RulePolicy" in {policy for _, _, _, policy, *_ in expected}
    assert {"report_form", "status_form", "action_listen", "action_submit_case"} <= {p[1] for p in expected}
    # Every set of states came from the kept replays, which started (a new tracker, a form's next turn) for fewer
    # than one call in five: the other calls read the replay as it was, or carried it on with the new events.
    assert replays["rasa"] == 0
    assert replays["kept"] * 5 < rasa_calls


# Every input of the states, on a small domain whose slots and entities count ----------------------------------------

DOMAIN = """
version: "3.1"
intents:
  - greet
  - inform:
      use_entities: [city]
  - affirm:
      ignore_entities: [city]
  - deny
entities: [city, date]
slots:
  kind:
    type: categorical
    values: [complaint, compliment]
    mappings: [{type: custom}]
  urgent:
    type: bool
    mappings: [{type: custom}]
  city:
    type: text
    mappings: [{type: custom}]
  score:
    type: float
    min_value: 0
    max_value: 1
    mappings: [{type: custom}]
forms:
  report_form:
    required_slots: [city]
actions: [action_ask, action_check, utter_greet, utter_bye]
responses:
  utter_greet: [{text: hi}]
  utter_bye: [{text: bye}]
"""
RULE_ONLY = {"rule_only_slots": ["urgent"], "rule_only_loops": ["report_form"]}
ACTIONS = ["action_ask", "action_check", "utter_greet", "utter_bye", "report_form", ACTION_LISTEN_NAME]
INTENTS = ["greet", "inform", "affirm", "deny"]


def domains() -> list[Domain]:
    """The domain, and one that reads the entities of another intent: only the entities' featurization differs."""
    return [Domain.from_yaml(DOMAIN), Domain.from_yaml(DOMAIN.replace("use_entities: [city]", "use_entities: []")
                                                       .replace("ignore_entities: [city]", "use_entities: [city]"))]


def all_states(tracker: DialogueStateTracker, domain_list: list[Domain], rasa: bool = False) -> list:
    """The tracker's states for each domain and each set of arguments the policies use, each then changed by its
    caller (Rasa's featurizers remove a message's text or intent); from Rasa's own function if `rasa`."""
    seen = []
    for domain in domain_list:
        for arguments in ({}, {"ignore_rule_only_turns": True, "rule_only_data": RULE_ONLY},
                          {"ignore_rule_only_turns": True}):
            if rasa:
                states = policy_states._rasa_states_for_tracker_history(domain, tracker, **arguments)
            else:
                states = domain.states_for_tracker_history(tracker, **arguments)
            seen.append(shape(states))
            for state in states:
                for part in state.values():
                    part.clear()
                state["junk"] = {"x": 1}
    return seen


def test_the_states_follow_each_input(install_cache):
    """Each change that the kept replay must notice, checked against Rasa's own replay of the same tracker at the
    same moment (the replays kept from one check to the next)."""
    install_cache()
    first, second = domains()
    slots = first.slots

    def check(tracker: DialogueStateTracker, domain_list: list[Domain]) -> list:
        kept = all_states(tracker, domain_list)
        assert kept == all_states(tracker, domain_list, rasa=True)
        return kept

    def message(intent: str, entities: tuple[dict[str, Any], ...] = ()) -> UserUttered:
        return UserUttered(f"some words for {intent}", {"name": intent, "confidence": 1.0}, list(entities))

    start = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)]
    greet = DialogueStateTracker.from_events("a", [*start, message("greet"), ActionExecuted("utter_greet")], slots)
    deny = DialogueStateTracker.from_events("b", [*start, message("deny"), ActionExecuted("utter_bye")], slots)
    assert len(greet.events) == len(deny.events)
    assert check(greet, [first]) != check(deny, [first])

    # The same tracker object, its last event replaced by another: as many events, not the same ones.
    before = check(greet, [first])
    greet.events.pop()
    greet.update(ActionExecuted("action_ask"))
    assert check(greet, [first]) != before

    # A slot that counts, set; a loop; a form's next turn, which drops the previous one.
    greet.update(SlotSet("kind", "complaint"))
    assert check(greet, [first]) != check(deny, [first])
    inform = message("inform", ({"entity": "city", "value": "Oslo"},))
    greet.update_with_events([ActionExecuted("report_form"), ActiveLoop("report_form"),
                              ActionExecuted(ACTION_LISTEN_NAME), inform], first)
    check(greet, [first])
    greet.update_with_events([ActionExecuted("report_form"), SlotSet("city", "Oslo")], first)
    check(greet, [first])

    # Another domain, which does not featurize the same entities, for the same tracker.
    affirm = message("affirm", ({"entity": "city", "value": "Oslo"},))
    greet.update_with_events([ActionExecuted(ACTION_LISTEN_NAME), affirm], first)
    assert check(greet, [second]) != check(greet, [first])
    check(greet, [first, second, first])

    # The latest message's featurization decided on a copy of the tracker, which shares the message: the tracker's
    # events are the same, its states are not.
    text_and_intent = check(greet, [first])
    greet.copy().update_with_events([DefinePrevUserUtteredFeaturization(True)], first)
    assert check(greet, [first]) != text_and_intent
    greet.update(DefinePrevUserUtteredFeaturization(True))
    check(greet, [first])
    # ... changed again on a copy: Rasa's replay sets it back before the next action reads it.
    greet.copy().update_with_events([DefinePrevUserUtteredFeaturization(False)], first)
    greet.update(ActionExecuted("action_check"))
    check(greet, [first])
    # ... and after an action read it, so that a turn kept from before is out of date.
    greet.update(ActionExecuted(ACTION_LISTEN_NAME))
    check(greet, [first])
    greet.copy().update_with_events([DefinePrevUserUtteredFeaturization(False)], first)
    check(greet, [first])
    # A message's entities added on a copy after actions read the message: the kept turns are out of date.
    greet.update_with_events([ActionExecuted(ACTION_LISTEN_NAME), message("deny"), ActionExecuted("action_check"),
                              ActionExecuted(ACTION_LISTEN_NAME)], first)
    read = check(greet, [first])
    greet.copy().update_with_events([EntitiesAdded([{"entity": "date", "value": "today"}])], first)
    assert check(greet, [first]) != read

    # A copy of the tracker: another object, the same events.
    assert check(greet.copy(), [first]) == check(greet, [first])

    # The same tracker object with other slots (a categorical slot that starts set).
    starts_set = copy.copy(greet.slots["kind"])
    starts_set.initial_value = "compliment"
    greet.slots = {**greet.slots, "kind": starts_set}
    check(greet, [first])


def script(seed: int, steps: int) -> list[tuple[str, Any]]:
    """A random conversation, as steps that can be played again with new objects."""
    rng = random.Random(seed)
    kinds = ["message", "message", "predicted", "predicted", "predicted", "action", "listen", "slot", "slot", "loop",
             "define", "copy_define", "copy_define", "entities", "followup", "interrupted", "rejected", "bot",
             "action_reverted", "user_reverted", "restarted", "session", "reset_slots", "copy_tracker", "form_turn"]
    steps_: list[tuple[str, Any]] = []
    for _ in range(steps):
        kind = rng.choice(kinds)
        if kind == "message":
            entities = [{"entity": rng.choice(["city", "date"]), "value": rng.choice("ab")}
                        for _ in range(rng.randrange(3))]
            argument: Any = (rng.random() < 0.8, rng.choice(INTENTS), entities, rng.choice(["", "words"]))
        elif kind in ("predicted", "action"):
            argument = (rng.choice(ACTIONS), rng.random() < 0.3, rng.random() < 0.5)
        elif kind == "slot":
            argument = rng.choice([("kind", "complaint"), ("kind", "compliment"), ("kind", None), ("urgent", True),
                                   ("urgent", False), ("city", "Oslo"), ("city", None), ("score", 0.4)])
        elif kind == "loop":
            argument = rng.choice(["report_form", None])
        elif kind in ("define", "copy_define", "interrupted"):
            argument = rng.random() < 0.5
        elif kind == "entities":
            argument = [{"entity": "date", "value": rng.choice("xy")}]
        elif kind in ("followup", "rejected"):
            argument = rng.choice(ACTIONS)
        else:
            argument = None
        steps_.append((kind, argument))
    return steps_


def play(steps: list[tuple[str, Any]], domain_list: list[Domain]) -> list:
    """The states of the conversation after each step, played with new events."""
    domain = domain_list[0]
    tracker = DialogueStateTracker.from_events("random", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots)
    seen = []
    for number, (kind, argument) in enumerate(steps):
        if kind == "message":
            listen, intent, entities, text = argument
            if listen:
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            tracker.update(UserUttered(text or None, {"name": intent, "confidence": 1.0}, copy.deepcopy(entities)))
        elif kind == "predicted":
            # As Rasa's processor logs a predicted action: its featurization of the message on the action's copy of
            # the tracker first, then on the tracker.
            name, hide_rule_turn, use_text = argument
            tracker.copy().update_with_events([DefinePrevUserUtteredFeaturization(use_text)], domain)
            tracker.update_with_events([DefinePrevUserUtteredFeaturization(use_text)], domain)
            tracker.update(ActionExecuted(name, hide_rule_turn=hide_rule_turn))
        elif kind == "action":
            tracker.update(ActionExecuted(argument[0], hide_rule_turn=argument[1]))
        elif kind == "listen":
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
        elif kind == "slot":
            tracker.update(SlotSet(*argument))
        elif kind == "loop":
            tracker.update(ActiveLoop(argument))
        elif kind == "define":
            tracker.update(DefinePrevUserUtteredFeaturization(argument))
        elif kind == "copy_define":
            tracker.copy().update_with_events([DefinePrevUserUtteredFeaturization(argument)], domain)
        elif kind == "entities":
            tracker.update(EntitiesAdded(copy.deepcopy(argument)))
        elif kind == "followup":
            tracker.update(FollowupAction(argument))
        elif kind == "interrupted":
            tracker.update(LoopInterrupted(argument))
        elif kind == "rejected":
            tracker.update(ActionExecutionRejected(argument))
        elif kind == "bot":
            tracker.update(BotUttered("hello"))
        elif kind == "action_reverted":
            tracker.update(ActionReverted())
        elif kind == "user_reverted":
            tracker.update(UserUtteranceReverted())
        elif kind == "restarted":
            tracker.update(Restarted())
        elif kind == "session":
            tracker.update_with_events([ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()], domain)
        elif kind == "reset_slots":
            tracker.update(AllSlotsReset())
        elif kind == "copy_tracker":
            tracker = tracker.copy()
        elif kind == "form_turn":
            tracker.update_with_events([ActionExecuted("report_form"), ActiveLoop("report_form"),
                                        ActionExecuted(ACTION_LISTEN_NAME), UserUttered("x", {"name": "inform"}),
                                        ActionExecuted("report_form"), SlotSet("city", "Oslo")], domain)
        # Now and then the other domain too (a replay of its own, far behind).
        seen.append(all_states(tracker, domain_list if number % 10 == 9 else domain_list[:1]))
        replay = policy_states._replays.get((id(tracker), id(domain)))
        if replay is not None:
            # The events that apply, worked out for the new events only, are Rasa's.
            assert list(map(id, replay.applied)) == list(map(id, tracker.applied_events()))
    return seen


@pytest.mark.parametrize("seed", range(6))
def test_random_conversations_give_rasas_states(seed, install_cache):
    steps = script(seed, 300)
    expected = play(steps, domains())
    install_cache()
    assert play(steps, domains()) == expected
