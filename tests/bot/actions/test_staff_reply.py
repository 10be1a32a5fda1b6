"""action_relay_staff_reply says a staff member's reply, given by the backend as an external event, as it is."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import yaml
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.staff_reply import ActionRelayStaffReply

ROOT = Path(__file__).resolve().parents[3]


def external_tracker(entities: list[dict[str, Any]]) -> Tracker:
    latest = {
        "text": "EXTERNAL: EXTERNAL_staff_reply",
        "intent": {"name": "EXTERNAL_staff_reply"},
        "entities": entities,
        "metadata": {"is_external": True},
    }
    return Tracker("telegram:880001", {}, latest, [], False, None, {}, "telegram")


def run(tracker: Tracker) -> tuple:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionRelayStaffReply().run(dispatcher, tracker, {}))
    return dispatcher.messages, events


def test_the_reply_is_said_word_for_word_and_changes_nothing_else() -> None:
    text = "About your report C-4F7KQ2X: the crew fixed it this morning."
    messages, events = run(external_tracker([{"entity": "staff_reply", "value": text}]))
    assert [message["text"] for message in messages] == [text]
    assert events == []


def test_a_reply_without_text_sends_nothing() -> None:
    for entities in ([], [{"entity": "staff_reply", "value": "   "}], [{"entity": "location", "value": "Elm St"}]):
        messages, events = run(external_tracker(entities))
        assert messages == [] and events == []


def test_the_domain_and_rule_wire_the_external_intent_to_the_action() -> None:
    domain = yaml.safe_load((ROOT / "bot" / "domain" / "staff_reply.yml").read_text())
    assert domain["intents"] == ["EXTERNAL_staff_reply"]
    assert domain["entities"] == ["staff_reply"]
    assert domain["actions"] == [ActionRelayStaffReply().name()]
    rules = yaml.safe_load((ROOT / "bot" / "rules" / "staff_reply.yml").read_text())["rules"]
    assert rules[0]["steps"] == [{"intent": "EXTERNAL_staff_reply"}, {"action": "action_relay_staff_reply"}]
