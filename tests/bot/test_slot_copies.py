"""Slots copied directly (serving/slot_copies.py) are what `copy.copy`'s own protocol makes: the same class and
values, and independent of the original."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from serving import slot_copies

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "bot" / "domain"))


@pytest.fixture
def installed():
    slot_copies.install()
    yield
    slot_copies.uninstall()


def state(slot) -> tuple:
    return type(slot), dict(slot.__dict__)


def test_every_slot_of_the_domain_copies_as_copy_copies_it(installed):
    kinds = {type(slot) for slot in DOMAIN.slots}
    assert len(kinds) >= 3  # text, boolean, categorical, any...
    ours = [copy.copy(slot) for slot in DOMAIN.slots]
    slot_copies.uninstall()
    rasas = [copy.copy(slot) for slot in DOMAIN.slots]
    assert [state(slot) for slot in ours] == [state(slot) for slot in rasas]
    assert all(a is not b for a, b in zip(ours, DOMAIN.slots))


def test_a_copy_is_independent_of_its_original(installed):
    tracker = DialogueStateTracker("web:resident", DOMAIN.slots)
    tracker.update(SlotSet("location", "45 Elm Street"))
    before = tracker.init_copy()  # a new tracker: its slots copied from the domain's
    again = tracker.copy()
    assert copy.copy.__module__ == "copy" and type(tracker.slots["location"]).__copy__ is slot_copies.copy_slot
    assert before.get_slot("location") is None and again.get_slot("location") == "45 Elm Street"
    again.update(SlotSet("location", "7 Oak Crescent"))
    assert tracker.get_slot("location") == "45 Elm Street"
    assert tracker.slots["location"] is not again.slots["location"]
