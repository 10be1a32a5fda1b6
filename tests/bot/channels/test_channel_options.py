"""Shared channel parts: numbered options, rate limits, duplicate deliveries, and the durable per-sender state."""

from __future__ import annotations

import asyncio
import time

import pytest

from channels import state as state_module
from channels.limits import RateLimiter, SharedRateLimiter, Verdict
from channels.options import chosen_payload, numbered_prompt, options_from_buttons
from channels.state import ChannelState, Option

YES_NO = [Option("Yes", "/affirm"), Option("No", "/deny")]


def test_options_come_from_well_formed_buttons_only():
    buttons = [
        {"title": " Yes ", "payload": "/affirm"},
        {"title": "", "payload": "/x"},
        {"payload": "/y"},
        {"title": "No", "payload": "/deny"},
        {"title": "Odd", "payload": None},
    ]
    assert options_from_buttons(buttons) == YES_NO
    assert options_from_buttons(None) == []


@pytest.mark.parametrize(
    "options, prompt",
    [
        ([Option("Yes", "/a")], "Reply 1 for Yes."),
        (YES_NO, "Reply 1 for Yes or 2 for No."),
        (
            [Option("Roads", "/a"), Option("Water", "/b"), Option("Trees", "/c")],
            "Reply 1 for Roads, 2 for Water or 3 for Trees.",
        ),
    ],
)
def test_numbered_prompt(options, prompt):
    assert numbered_prompt(options) == prompt


@pytest.mark.parametrize(
    "text, by_number, payload",
    [
        ("2", True, "/deny"),
        ("#1", True, "/affirm"),
        ("2.", True, "/deny"),
        (" 1) ", True, "/affirm"),
        ("3", True, None),
        ("0", True, None),
        ("2", False, None),
        ("12 Elm St", True, None),
        ("yes", False, "/affirm"),
        ("NO!", True, "/deny"),
        ("/deny", False, "/deny"),
        ("no way", False, None),
    ],
)
def test_a_message_picks_an_option_by_number_title_or_payload(text, by_number, payload):
    assert chosen_payload(text, YES_NO, by_number=by_number) == payload


def test_nothing_is_picked_when_nothing_was_offered():
    assert chosen_payload("1", [], by_number=True) is None


def limiters(tmp_path, limit, window, clock):
    """The in-memory limiter, and two shared ones on one file, as two Rasa workers hold them."""
    shared = [
        SharedRateLimiter(limit, tmp_path / "limits.db", scope="test", window=window, clock=clock) for _ in range(2)
    ]
    return {"memory": RateLimiter(limit, window=window, clock=clock), "shared": shared}


@pytest.mark.parametrize("kind", ["memory", "shared"])
def test_the_rate_limit_allows_a_burst_warns_once_then_drops_until_the_window_moves_on(tmp_path, kind):
    now = [0.0]
    made = limiters(tmp_path, 3, 60, lambda: now[0])[kind]
    workers = made if isinstance(made, list) else [made]

    class Alternating:  # messages land on the workers in turn
        calls = 0

        def check(self, sender):
            self.calls += 1
            return workers[self.calls % len(workers)].check(sender)

    limiter = Alternating()
    assert [limiter.check("a") for _ in range(5)] == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP]
    assert limiter.check("b") is Verdict.ALLOW  # per sender
    now[0] = 61.0
    assert limiter.check("a") is Verdict.ALLOW
    assert [limiter.check("a") for _ in range(3)] == [Verdict.ALLOW, Verdict.ALLOW, Verdict.WARN]


def test_the_rate_limiter_forgets_idle_senders():
    now = [0.0]
    limiter = RateLimiter(1, window=10, clock=lambda: now[0])
    for number in range(2000):
        limiter.check(f"sender-{number}")
    now[0] = 100.0
    limiter.check("late")
    assert len(limiter._seen) == 1


def test_shared_limits_of_different_scopes_count_apart_and_the_environment_chooses_them(tmp_path, monkeypatch):
    per_sender = SharedRateLimiter(1, tmp_path / "limits.db", scope="sender")
    per_address = SharedRateLimiter(1, tmp_path / "limits.db", scope="address")
    assert per_sender.check("127.0.0.1") is Verdict.ALLOW and per_address.check("127.0.0.1") is Verdict.ALLOW
    assert per_sender.check("127.0.0.1") is Verdict.WARN

    monkeypatch.setenv("INTAKE_LIMITS_SQLITE_PATH", str(tmp_path / "limits.db"))
    assert isinstance(RateLimiter.from_env(), SharedRateLimiter)
    monkeypatch.delenv("INTAKE_LIMITS_SQLITE_PATH")
    assert type(RateLimiter.from_env()) is RateLimiter


def test_a_retried_delivery_is_taken_once_whichever_worker_receives_it(tmp_path, monkeypatch):
    path = tmp_path / "channels.db"
    one, two = ChannelState(path), ChannelState(path)  # two Rasa workers, one file

    async def deliveries() -> list:
        return [
            await one.first_delivery("sms:SM1"),
            await two.first_delivery("sms:SM1"),
            await two.first_delivery("sms:SM2"),
            await one.first_delivery("telegram:SM1"),
        ]

    assert asyncio.run(deliveries()) == [True, False, True, True]
    later = time.time() + state_module.FORGET_DELIVERIES_AFTER_SECONDS + 60
    monkeypatch.setattr(state_module.time, "time", lambda: later)  # two days on, old ids are let go
    assert asyncio.run(one.first_delivery("sms:SM3")) is True
    assert one._run("SELECT delivery_id FROM deliveries") == [("sms:SM3",)]


def test_the_state_keeps_opt_outs_options_and_waiting_attachments_across_restarts(tmp_path):
    path = tmp_path / "channels.db"

    async def first() -> None:
        state = ChannelState(path)
        await state.opt_out("sms:+1")
        await state.offer_options("sms:+1", YES_NO)
        await state.keep_attachments("sms:+1", [{"url": "u1", "content_type": "image/jpeg"}])
        await state.keep_attachments("sms:+1", [{"url": "u2", "content_type": "image/jpeg"}])

    async def second() -> None:
        state = ChannelState(path)
        assert await state.is_opted_out("sms:+1") and not await state.is_opted_out("sms:+2")
        assert await state.offered_options("sms:+1") == YES_NO
        assert [a["url"] for a in await state.take_attachments("sms:+1")] == ["u1", "u2"]
        assert await state.take_attachments("sms:+1") == []
        await state.opt_in("sms:+1")
        await state.offer_options("sms:+1", [])
        assert not await state.is_opted_out("sms:+1") and await state.offered_options("sms:+1") == []

    asyncio.run(first())
    asyncio.run(second())
    assert oct(path.stat().st_mode & 0o777) == "0o600"
