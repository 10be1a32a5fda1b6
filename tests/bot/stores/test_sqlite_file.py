"""Small SQLite files that Rasa's worker processes share (stores/sqlite.py): each process its own connection."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.synchronize
import os
import sqlite3
from pathlib import Path

from channels.state import ChannelState
from stores.sqlite import SharedFile


def child_opens_its_own(file: SharedFile, inherited: int, result: multiprocessing.Queue) -> None:
    mine = file.db
    mine.execute("INSERT INTO notes VALUES (?)", (f"child {os.getpid()}",))
    result.put(id(mine) != inherited)


def test_a_forked_worker_opens_its_own_connection_and_both_write(tmp_path):
    file = SharedFile(tmp_path / "shared.db", flush="OFF", schema="CREATE TABLE IF NOT EXISTS notes (text TEXT);")
    parent = file.db  # opened before the fork, as Rasa creates its channels before its workers
    context = multiprocessing.get_context("fork")
    result = context.Queue()
    child = context.Process(target=child_opens_its_own, args=(file, id(parent), result))
    child.start()
    child.join(timeout=30)
    assert child.exitcode == 0 and result.get(timeout=5) is True
    parent.execute("INSERT INTO notes VALUES ('parent')")
    assert file.db is parent
    assert sorted(text.split()[0] for (text,) in parent.execute("SELECT text FROM notes")) == ["child", "parent"]


def test_an_opt_out_is_synced_to_disk_and_the_file_goes_back_to_normal_flushing(tmp_path):
    state = ChannelState(tmp_path / "channels.db")
    asyncio.run(state.opt_out("sms:+16475550177"))
    assert asyncio.run(state.is_opted_out("sms:+16475550177"))
    assert state.file.db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
    assert oct(os.stat(tmp_path / "channels.db").st_mode & 0o777) == "0o600"


def open_at_once_and_write(
    path: str, start: multiprocessing.synchronize.Barrier, result: multiprocessing.Queue
) -> None:
    file = SharedFile(Path(path), flush="OFF", schema="CREATE TABLE IF NOT EXISTS notes (text TEXT);")
    start.wait()
    try:
        with file.transaction() as db:
            db.execute("INSERT INTO notes VALUES (?)", (str(os.getpid()),))
        result.put("written")
    except sqlite3.Error as error:
        result.put(repr(error))


def test_workers_opening_a_new_file_at_the_same_moment_all_get_to_write(tmp_path):
    # Rasa's workers open the lock, limits and channel files at their first requests, which can come at once.
    context = multiprocessing.get_context("fork")
    for round_ in range(60):
        path = tmp_path / f"new-{round_}.db"
        start, result = context.Barrier(4), context.Queue()
        workers = [context.Process(target=open_at_once_and_write, args=(str(path), start, result)) for _ in range(4)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(timeout=60)
        assert [result.get(timeout=5) for _ in workers] == ["written"] * 4, f"round {round_}"
        assert sqlite3.connect(path).execute("SELECT count(*) FROM notes").fetchone() == (4,)
