"""Event classes are found from a table (serving/event_types.py) exactly as Rasa's walk of Event's subclasses
finds them, including subclasses defined after the table was built."""

from __future__ import annotations

import gc

import pytest
import rasa.shared.utils.common
from rasa.shared.core.events import Event, LoopInterrupted, SlotSet, UserUttered, deserialise_events

from serving import event_types


@pytest.fixture
def installed():
    event_types.install()
    yield
    event_types.uninstall()
    gc.collect()  # the test's own subclasses are gone: nothing else reads them back


def event_class(name: str, type_name: str) -> type:
    """A new, minimal, concrete subclass of Event."""
    methods = {"as_story_string": lambda self: None, "__eq__": lambda self, other: type(other) is type(self),
               "__hash__": lambda self: 0}
    return type(name, (Event,), {"type_name": type_name, **methods})


def rasas_answers(names):
    event_types.uninstall()
    try:
        return {name: Event.resolve_by_type(name, default=SlotSet) for name in names}
    finally:
        event_types.install()


def test_every_event_type_gives_the_class_rasa_gives(installed):
    names = sorted({cls.type_name for cls in rasa.shared.utils.common.all_subclasses(Event)}) + ["no_such_event"]
    assert len(names) > 20
    assert {name: Event.resolve_by_type(name, default=SlotSet) for name in names} == rasas_answers(names)


def test_names_without_a_class_are_answered_as_rasa_answers_them(installed):
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no_such_event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        Event.resolve_by_type("no_such_event")


def test_subclasses_defined_later_are_found_as_rasa_finds_them(installed):
    assert Event.resolve_by_type("loop_interrupted") is LoopInterrupted  # the table is built
    assert LoopInterrupted not in Event.__subclasses__()  # it is met after Event's own subclasses

    # A new class of Event's own with LoopInterrupted's name comes first in Rasa's walk, and wins there.
    shadow = event_class("ShadowLoopInterrupted", "loop_interrupted")
    new = event_class("CityNote", "city_note_for_the_test")
    later = type("LoudUserUttered", (UserUttered,), {})  # UserUttered's name; met after UserUttered

    names = ["loop_interrupted", "city_note_for_the_test", "user"]
    found = {name: Event.resolve_by_type(name) for name in names}  # before anything rebuilds the table
    assert found == rasas_answers(names) == {"loop_interrupted": shadow, "city_note_for_the_test": new,
                                            "user": UserUttered}
    assert later.type_name == "user"


def test_events_read_back_as_they_were_written(installed):
    events = [UserUttered("pothole on Elm", {"name": "report", "confidence": 0.9}), SlotSet("location", "Elm St")]
    assert deserialise_events([event.as_dict() for event in events]) == events
