"""Small SQLite files that Rasa's worker processes share (stores/sqlite.py): each process its own connection."""

from __future__ import annotations

import asyncio
import multiprocessing
import os

from channels.state import ChannelState
from stores.sqlite import SharedFile


def child_opens_its_own(file: SharedFile, inherited: int, result: "multiprocessing.Queue") -> None:
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
