"""Rasa's lookup of an event's class by its type name ("user", "slot", "action"...), from a table.

Rasa 3.6 reads every event it is sent (the action server's answers, the stored conversation) through
`Event.resolve_by_type`, which walks the whole tree of Event's subclasses (about 30 classes) to find the first with
that type name: about 4% of a worker's time under load. Here the answer is looked up in a table of what that walk
finds, built once and built again when a new subclass of Event is defined, so it is always the class Rasa's walk
would return. A name with no class goes to Rasa's own function, which says what to do with it (None for the old
"topic", the default, or an error).
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text, Type

import rasa.shared.utils.common
from rasa.shared.core.events import Event

_rasa_resolve_by_type = Event.resolve_by_type
_classes: Dict[Text, Type[Event]] = {}


def _table() -> Dict[Text, Type[Event]]:
    if not _classes:
        for cls in rasa.shared.utils.common.all_subclasses(Event):
            _classes.setdefault(cls.type_name, cls)  # the first one Rasa's walk meets
    return _classes


def resolve_by_type(type_name: Text, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """`Event.resolve_by_type`, from the table."""
    found = _table().get(type_name)
    return found if found is not None else _rasa_resolve_by_type(type_name, default)


def _on_new_subclass(cls: Type[Event], **kwargs: Any) -> None:
    super(Event, cls).__init_subclass__(**kwargs)
    _classes.clear()


def install() -> None:
    """Make Rasa find event classes from the table, kept up to date as subclasses are defined."""
    Event.resolve_by_type = staticmethod(resolve_by_type)  # type: ignore[assignment]
    Event.__init_subclass__ = classmethod(_on_new_subclass)  # type: ignore[assignment]
    _classes.clear()


def uninstall() -> None:
    """Give Rasa's own lookup back."""
    Event.resolve_by_type = staticmethod(_rasa_resolve_by_type)  # type: ignore[assignment]
    if "__init_subclass__" in Event.__dict__:
        del Event.__init_subclass__
    _classes.clear()
