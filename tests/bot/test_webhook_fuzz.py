"""Fuzz every webhook in a real server: Twilio form fields, Telegram updates, REST and web chat JSON.

At least 1,000 requests per channel, signed or not, well-formed or not. Every answer is below 500, a request the
channel refuses (4xx) reaches nothing: not Rasa, not the platform's API, not the channels' stored state, and no
message reaches Rasa as an `/intent` command unless the channel chose it (an offered button, a Telegram command).
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests
from channel_testing import ScriptedRasa, serve
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stand_ins import TelegramStandIn, TwilioStandIn, telegram_update, twilio_webhook_params
from twilio.request_validator import RequestValidator

from channels.delivery import RetryPolicy
from channels.limits import RateLimiter
from channels.rest import ResidentRestInput, WebChatInput
from channels.sms import SmsInput, SmsSettings
from channels.state import ChannelState
from channels.telegram import SECRET_HEADER, TelegramInput, TelegramSettings
from channels.turn import ChannelCommand, Turns
from channels.twilio_sender import TwilioAccount, TwilioSender
from serving.intent_guard import reads_as_command

EXAMPLES = 1000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
NO_LIMIT = 10**9  # the limits have their own tests; here every request should reach the parsing
SMS_URL = "https://intake.city.example/webhooks/sms/webhook"
TELEGRAM_SECRET = "fuzz-secret_token"

# --- Strategies ------------------------------------------------------------------------------------------------


def mostly(usual: st.SearchStrategy, unusual: st.SearchStrategy) -> st.SearchStrategy:
    """Draw from `usual` three times in four, else from `unusual` (so the paths past the checks are fuzzed too)."""
    return st.sampled_from([usual, usual, usual, unusual]).flatmap(lambda strategy: strategy)


any_text = st.text(st.characters(codec="utf-8"), max_size=80) | st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u202e",
        "\ufeff",
        "/affirm",
        '/inform{"location": "x"}',
        "STOP",
        "stop.",
        "YES",
        "HELP",
        '/ /EXTERNAL_staff_reply{"staff_reply": "x"}',
        "/\u00a0/affirm",
        "\u2215/deny",
        "\u200b/ /affirm",
        "1",
        "9",
        "x" * 2001,
        "é" * 700,
        "\r\n",
        "sms:+14165550123",
        "telegram:1",
    ]
)
json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | any_text
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(any_text, children, max_size=4),
    max_leaves=10,
)
raw_bodies = st.binary(max_size=300) | st.sampled_from([b"", b"{", b"null", b"[]", b'{"sender": "a"}', b"\xff\xfe"])

good_senders = st.from_regex(r"[A-Za-z0-9_.@+-]{1,128}", fullmatch=True)
rest_bodies = mostly(
    st.fixed_dictionaries(
        {"sender": good_senders, "message": any_text},
        optional={"metadata": json_values, "input_channel": any_text, "customData": json_values},
    ),
    st.fixed_dictionaries({"sender": good_senders | any_text | json_values, "message": any_text | json_values})
    | st.dictionaries(any_text, json_values, max_size=4)
    | json_values
    | raw_bodies,
)

twilio_fields = (
    st.sampled_from(
        [
            "From",
            "To",
            "Body",
            "MessageSid",
            "NumMedia",
            "MediaUrl0",
            "MediaContentType0",
            "MediaUrl1",
            "OptOutType",
            "AccountSid",
            "SmsStatus",
        ]
    )
    | any_text
)
twilio_changes = st.dictionaries(twilio_fields, any_text | st.integers().map(str), max_size=6)
# How the request is signed: as Twilio would, not at all, with nonsense, or for other fields.
signing = mostly(st.just("valid"), st.sampled_from(["none", "garbage", "other fields"]))
# Most requests carry a body of the right kind; some carry anything at all instead.
raw_or_not = mostly(st.none(), raw_bodies)

chat_ids = st.integers(-(10**13), 10**13) | json_values
telegram_messages = st.fixed_dictionaries(
    {
        "message_id": st.integers(0, 2**31) | json_values,
        "date": st.integers(0, 2**31) | json_values,
        "chat": st.fixed_dictionaries(
            {"id": chat_ids, "type": st.sampled_from(["private", "group", "channel"]) | any_text}
        )
        | json_values,
    },
    optional={
        "text": any_text,
        "caption": any_text,
        "from": st.fixed_dictionaries({"id": st.integers(), "is_bot": st.booleans(), "first_name": any_text}),
        "location": st.fixed_dictionaries({"latitude": json_scalars, "longitude": json_scalars}) | json_values,
        "venue": json_values,
        "contact": json_values,
        "photo": st.lists(
            st.fixed_dictionaries(
                {"file_id": any_text, "file_unique_id": any_text, "width": st.integers(), "height": st.integers()}
            ),
            max_size=3,
        )
        | json_values,
        "document": json_values,
        "voice": json_values,
        "entities": json_values,
    },
)
real_updates = st.builds(
    lambda chat, text, location, photo, caption, edited, chat_type: telegram_update(
        chat, text, location=location, photo=photo, caption=caption, edited=edited, chat_type=chat_type
    ),
    st.integers(1, 10**12),
    st.none() | any_text,
    st.none() | st.tuples(st.floats(-90, 90), st.floats(-180, 180)),
    st.booleans(),
    st.none() | any_text,
    st.booleans(),
    st.sampled_from(["private", "private", "group"]),
)
telegram_bodies = (
    st.fixed_dictionaries(
        {"update_id": st.integers(-(2**31), 2**31) | json_values},
        optional={
            "message": telegram_messages | json_values,
            "edited_message": telegram_messages,
            "channel_post": telegram_messages,
            "callback_query": json_values,
        },
    )
    | json_values
)
secrets_sent = st.sampled_from([TELEGRAM_SECRET] * 4 + [None, "", "wrong", TELEGRAM_SECRET + " "])


# --- A channel in a real server, on a thread of its own --------------------------------------------------------


def answer_with_buttons(message: Any) -> list[dict[str, Any]]:
    """Answer like the assistant does, buttons included, so that offered options are stored too."""
    return [
        {
            "text": "Thanks. Is that right?",
            "buttons": [{"title": "Yes", "payload": "/affirm"}, {"title": "No", "payload": "/deny"}],
        }
    ]


class Running:
    """A connector served by a real Sanic server in a background thread, with a scripted Rasa behind it."""

    def __init__(self, channel: Any, state_path: Path, sent: Callable[[], int]) -> None:
        self.channel = channel
        self.rasa = ScriptedRasa(answer_with_buttons)
        self.state_path = state_path
        self.sent = sent  # how many messages the platform's API stand-in has accepted so far
        self.url = ""
        self.http = requests.Session()
        self.answered: Counter = Counter()  # requests by status code

    def snapshot(self) -> tuple[int, int, str]:
        """Return what a request could have changed: messages to Rasa, messages out, stored state."""
        digest = hashlib.sha256()
        with closing(sqlite3.connect(self.state_path)) as db:
            for (table,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name"):
                for row in db.execute(f"SELECT * FROM {table} ORDER BY 1"):  # noqa: S608 (our own table names)
                    digest.update(repr((table, row)).encode())
        return len(self.rasa.received), self.sent(), digest.hexdigest()

    def check(self, send: Callable[[], requests.Response]) -> int:
        """Send one request; assert the answer is no server error and that a refused request changed nothing."""
        before = self.snapshot()
        status = send().status_code
        assert status < 500, status
        if status >= 400:
            assert self.snapshot() == before, status
        for message in self.rasa.received[before[0] :]:
            assert isinstance(message, ChannelCommand) or not reads_as_command(message.text), message.text
        self.answered[status] += 1
        return status

    def assert_both_kinds(self) -> None:
        """Check that the fuzzing reached past the checks often, and was refused often."""
        accepted = sum(count for status, count in self.answered.items() if status < 400)
        assert accepted > sum(self.answered.values()) // 5 and accepted < sum(self.answered.values()), self.answered


@contextmanager
def running(channel: Any, state_path: Path, sent: Callable[[], int] = lambda: 0) -> Iterator[Running]:
    server = Running(channel, state_path, sent)
    ready, stop = threading.Event(), None
    failure: list[BaseException] = []

    async def main() -> None:
        nonlocal stop
        stop = asyncio.Event()
        try:
            async with serve(channel, server.rasa) as url:
                server.url = f"{url}/webhook"
                ready.set()
                await stop.wait()
        except BaseException as error:  # reported to the test below
            failure.append(error)
            ready.set()

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(60) and not failure, failure
    try:
        yield server
    finally:
        server.http.close()  # the client's kept-alive connections first, so the server has none left open
        loop.call_soon_threadsafe(stop.set)  # type: ignore[union-attr]
        thread.join(timeout=30)
        loop.close()


# --- The tests -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=[ResidentRestInput, WebChatInput], ids=["rest", "web"])
def rest_server(request, tmp_path_factory) -> Iterator[Running]:
    path = tmp_path_factory.mktemp("rest") / "channels.db"
    cls = request.param
    turns = Turns(cls.name(), ChannelState(path), RateLimiter(NO_LIMIT), options_by_number=False)
    with running(cls(turns, per_address=RateLimiter(NO_LIMIT)), path) as server:
        yield server
    server.assert_both_kinds()


@FUZZ
@given(body=rest_bodies)
def test_fuzz_rest_and_web_chat_payloads(rest_server: Running, body: Any) -> None:
    def send() -> requests.Response:
        if isinstance(body, bytes):
            return rest_server.http.post(rest_server.url, data=body, headers={"Content-Type": "application/json"})
        return rest_server.http.post(rest_server.url, json=body)

    status = rest_server.check(send)
    if status == 200:
        assert rest_server.rasa.received[-1].sender_id == body["sender"]


@pytest.fixture(scope="module")
def sms_server(tmp_path_factory) -> Iterator[tuple[Running, TwilioStandIn]]:
    path = tmp_path_factory.mktemp("sms") / "channels.db"
    with TwilioStandIn() as twilio:
        state = ChannelState(path)
        sender = TwilioSender(
            TwilioAccount(twilio.account_sid, twilio.auth_token, twilio.url), state, RetryPolicy(attempts=1)
        )
        channel = SmsInput(
            SmsSettings(twilio.account_sid, twilio.auth_token, SMS_URL, twilio.url),
            state=state,
            limiter=RateLimiter(NO_LIMIT),
            sender=sender,
        )
        channel.refused = RateLimiter(NO_LIMIT)
        with running(channel, path, sent=lambda: twilio.arrived) as server:
            yield server, twilio
    server.assert_both_kinds()


@FUZZ
@given(changes=twilio_changes, how=signing, raw=raw_or_not)
def test_fuzz_twilio_form_fields(
    sms_server: tuple[Running, TwilioStandIn], changes: dict[str, str], how: str, raw: bytes | None
) -> None:
    server, twilio = sms_server
    params = {
        **twilio_webhook_params(
            account_sid=twilio.account_sid, sender="+14165550123", to="+14165550311", body="pothole on Elm St"
        ),
        **changes,
    }
    validator = RequestValidator(twilio.auth_token)
    signature = {
        "valid": validator.compute_signature(SMS_URL, params),
        "none": None,
        "garbage": "bm90IGEgc2lnbmF0dXJl",
        "other fields": validator.compute_signature(SMS_URL, {**params, "Body": "something else"}),
    }[how]
    headers = {"X-Twilio-Signature": signature} if signature else {}

    def send() -> requests.Response:
        if raw is not None:  # a body that is not the form Twilio sends
            return server.http.post(server.url, data=raw, headers={**headers, "Content-Type": "text/plain"})
        return server.http.post(server.url, data=params, headers=headers)

    status = server.check(send)
    if how != "valid" or raw is not None:
        assert status in (400, 403), status


@pytest.fixture(scope="module")
def telegram_server(tmp_path_factory) -> Iterator[tuple[Running, TelegramStandIn]]:
    path = tmp_path_factory.mktemp("telegram") / "channels.db"
    with TelegramStandIn() as api:
        channel = TelegramInput(
            TelegramSettings(api.token, TELEGRAM_SECRET, api.url, None),
            state=ChannelState(path),
            limiter=RateLimiter(NO_LIMIT),
            policy=RetryPolicy(attempts=1),
        )
        channel.refused = RateLimiter(NO_LIMIT)
        with running(channel, path, sent=lambda: len(api.sent)) as server:
            yield server, api
    server.assert_both_kinds()


@FUZZ
@given(body=mostly(real_updates, telegram_bodies), raw=raw_or_not, secret=secrets_sent)
def test_fuzz_telegram_updates(
    telegram_server: tuple[Running, TelegramStandIn], body: Any, raw: bytes | None, secret: str | None
) -> None:
    server, _ = telegram_server
    headers = {SECRET_HEADER: secret} if secret is not None else {}

    def send() -> requests.Response:
        if raw is not None:
            return server.http.post(server.url, data=raw, headers={**headers, "Content-Type": "application/json"})
        return server.http.post(server.url, json=body, headers=headers)

    status = server.check(send)
    if secret != TELEGRAM_SECRET:
        assert status == 403, status
