"""A Rasa worker sets aside from the garbage collector what is alive once its model is loaded (serving/heap.py)."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import Iterator
from typing import Any

import pytest
import rasa.core.run

from serving import heap


class Node:
    """An object that can sit in a reference cycle."""

    def __init__(self) -> None:
        self.other: Any = None


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_what_the_loader_keeps_is_frozen_and_its_dropped_cycles_are_collected_first(unfrozen: None) -> None:
    kept: list[Any] = []
    dropped: list[Any] = []

    async def load() -> str:
        kept.extend([{"slot": index}] for index in range(5000))  # 5,000 lists, each holding a dict: all tracked
        first, second = Node(), Node()
        first.other, second.other = second, first  # a cycle nothing refers to once the loader returns
        dropped.append(weakref.ref(first))
        return "agent"

    assert gc.get_freeze_count() == 0
    assert asyncio.run(heap.freeze_after(load)()) == "agent"
    assert gc.get_freeze_count() >= 10_000  # the kept lists and dicts, among everything else alive
    assert dropped[0]() is None  # collected before the freeze, not set aside for good
    assert not any(item is kept[0] for item in gc.get_objects())  # a collection no longer walks them


def test_a_loader_that_fails_freezes_nothing(unfrozen: None) -> None:
    async def load() -> str:
        raise RuntimeError("no model")

    with pytest.raises(RuntimeError, match="no model"):
        asyncio.run(heap.freeze_after(load)())
    assert gc.get_freeze_count() == 0


def test_install_wraps_rasa_s_model_loading_at_start(monkeypatch: pytest.MonkeyPatch) -> None:
    original = rasa.core.run.load_agent_on_start
    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", original)
    heap.install()
    assert rasa.core.run.load_agent_on_start is not original
    assert rasa.core.run.load_agent_on_start.__wrapped__ is original  # type: ignore[attr-defined]
