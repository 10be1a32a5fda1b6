"""The SQLite lock store (stores/lock_store.py) lets several Rasa workers on one machine answer a conversation's
messages one at a time, as Rasa's in-memory lock store does within one process."""

from __future__ import annotations

import asyncio
import multiprocessing
import time
from pathlib import Path

from stores.lock_store import SQLiteLockStore

CONVERSATION = "web:resident-7"


def take_turns(lock_path: str, counter_path: str, turns: int) -> None:
    """Read, pause and write a shared counter, holding the conversation's lock: a lost update means no exclusion."""
    store = SQLiteLockStore(db=lock_path)
    counter = Path(counter_path)

    async def run() -> None:
        for _ in range(turns):
            async with store.lock(CONVERSATION, wait_time_in_seconds=0.002):
                value = int(counter.read_text())
                time.sleep(0.001)
                counter.write_text(str(value + 1))

    asyncio.run(run())


def test_two_processes_never_hold_the_same_conversation_at_once(tmp_path):
    counter = tmp_path / "counter"
    counter.write_text("0")
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=take_turns, args=(str(tmp_path / "locks.db"), str(counter), 40)) for _ in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert [worker.exitcode for worker in workers] == [0, 0]
    assert counter.read_text() == "80"
    assert SQLiteLockStore(db=str(tmp_path / "locks.db")).get_lock(CONVERSATION) is None  # nothing left behind


def issue_tickets(lock_path: str, out_path: str, count: int) -> None:
    store = SQLiteLockStore(db=lock_path)
    Path(out_path).write_text(" ".join(str(store.issue_ticket(CONVERSATION)) for _ in range(count)))


def test_two_processes_asking_at_the_same_moment_never_get_the_same_ticket(tmp_path):
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=issue_tickets, args=(str(tmp_path / "locks.db"), str(tmp_path / f"t{n}"), 300))
        for n in range(2)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    tickets = [int(t) for n in range(2) for t in (tmp_path / f"t{n}").read_text().split()]
    assert sorted(tickets) == list(range(min(tickets), min(tickets) + 600))


def test_tickets_are_served_in_order_and_a_lock_nobody_waits_for_is_removed(tmp_path):
    store = SQLiteLockStore(db=str(tmp_path / "locks.db"))
    first = store.issue_ticket(CONVERSATION)
    second = store.issue_ticket(CONVERSATION)
    assert second == first + 1
    lock = store.get_lock(CONVERSATION)
    assert lock is not None and not lock.is_locked(first) and lock.is_locked(second)

    store.cleanup(CONVERSATION, first)
    lock = store.get_lock(CONVERSATION)
    assert lock is not None and not lock.is_locked(second)
    store.cleanup(CONVERSATION, second)
    assert store.get_lock(CONVERSATION) is None


def test_an_expired_ticket_stops_blocking_the_conversation(tmp_path):
    store = SQLiteLockStore(db=str(tmp_path / "locks.db"))
    store.issue_ticket(CONVERSATION, lock_lifetime=0.05)  # a worker that died holding the lock
    waiting = store.issue_ticket(CONVERSATION)
    time.sleep(0.1)

    async def acquire() -> None:
        lock = await store._acquire_lock(CONVERSATION, waiting, wait_time_in_seconds=0.01)
        assert not lock.is_locked(waiting)

    asyncio.run(asyncio.wait_for(acquire(), timeout=5))
