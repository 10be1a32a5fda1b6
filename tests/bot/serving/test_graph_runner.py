"""Rasa's model graph run node after node (serving/graph_runner.py) understands and predicts as dask runs it."""

from __future__ import annotations

import asyncio
import os

import pytest
from rasa.core.agent import Agent
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.events import ActionExecuted, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from serving import graph_runner
from serving.graph_runner import SequentialGraphRunner

MESSAGES = [
    "There is a big pothole on Elm Street",
    "the bus driver on route 7 was so kind to my mother",
    "what's happening with C-7KX2M9Q",
    "45 Elm Street",
    "yes",
    "help",
    "I want to talk to a person",
    "Il y a un nid-de-poule devant chez moi",
]


def model() -> str:
    path = os.environ.get("INTAKE_MODEL")
    if not path:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`")
    return path


async def conversation(agent: Agent) -> list:
    """What the assistant understands of each message, and the next two actions it decides on, in one
    conversation that grows message by message (no action server: the decided actions are only recorded)."""
    domain = agent.processor.domain
    tracker = DialogueStateTracker.from_events(
        "runner",
        [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)],
        domain.slots,
    )
    seen = []
    for text in MESSAGES:
        parsed = await agent.parse_message(text)
        seen.append(
            (
                parsed["intent"]["name"],
                round(parsed["intent"]["confidence"], 6),
                sorted((e["entity"], e["value"]) for e in parsed["entities"]),
            )
        )
        tracker.update(UserUttered(text, parsed["intent"], parsed["entities"], parsed))
        for _ in range(2):
            prediction = agent.processor._predict_next_with_tracker(tracker)
            action = domain.action_names_or_texts[prediction.max_confidence_index]
            seen.append((action, round(prediction.max_confidence, 6), prediction.policy_name))
            tracker.update(ActionExecuted(action, prediction.policy_name, prediction.max_confidence))
        tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    return seen


def test_the_sequential_runner_understands_and_predicts_as_dask_does(monkeypatch):
    with_dask = Agent.load(model())
    assert type(with_dask.processor.graph_runner) is DaskGraphRunner
    monkeypatch.setattr(graph_runner.rasa.core.processor, "DaskGraphRunner", DaskGraphRunner)  # undone afterwards
    graph_runner.install()
    sequential = Agent.load(model())
    assert type(sequential.processor.graph_runner) is SequentialGraphRunner
    expected = asyncio.run(conversation(with_dask))
    assert asyncio.run(conversation(sequential)) == expected
    assert {intent for intent, *_ in expected[::3]} >= {
        "service_request",
        "compliment",
        "check_status",
        "human_handoff",
    }
    assert len({action for action, *_ in expected[1::3]}) >= 4
