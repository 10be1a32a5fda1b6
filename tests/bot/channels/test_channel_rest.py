"""The REST channel and the web chat's channel in a real server, with a scripted Rasa behind them."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest
from channel_testing import ScriptedRasa, serve

from channels import replies
from channels.limits import RateLimiter
from channels.rest import ResidentRestInput, WebChatInput
from channels.state import ChannelState
from channels.turn import Turns


def rest_channel(tmp_path, cls=ResidentRestInput, limit: int = 100) -> ResidentRestInput:
    turns = Turns(cls.name(), ChannelState(tmp_path / "channels.db"), RateLimiter(limit), options_by_number=False)
    return cls(turns)


def exchange(channel: ResidentRestInput, rasa: ScriptedRasa, bodies: list[Any]) -> list[tuple[int, Any]]:
    async def main() -> list[tuple[int, Any]]:
        results = []
        async with serve(channel, rasa) as url, aiohttp.ClientSession() as session:
            for body in bodies:
                data = body if isinstance(body, bytes) else None
                async with session.post(f"{url}/webhook", json=None if data else body, data=data) as response:
                    results.append((response.status, await response.json()))
        return results

    return asyncio.run(main())


@pytest.mark.parametrize(
    "body, detail",
    [
        (b"not json", "JSON object"),
        ([1, 2], "JSON object"),
        ({"message": "hi"}, "sender"),
        ({"sender": "", "message": "hi"}, "sender"),
        ({"sender": "sms:+14165550123", "message": "hi"}, "sender"),  # other channels' conversations are out of reach
        ({"sender": "telegram:5550123", "message": "hi"}, "sender"),
        ({"sender": "a" * 129, "message": "hi"}, "sender"),
        ({"sender": "web-1", "message": 5}, "message"),
        ({"sender": "web-1", "message": " /// \x00 "}, "empty"),
    ],
)
def test_a_malformed_request_gets_a_clear_400_and_reaches_nothing(tmp_path, body, detail):
    rasa = ScriptedRasa()
    [(status, answer)] = exchange(rest_channel(tmp_path), rasa, [body])
    assert status == 400 and detail in answer["detail"]
    assert rasa.received == []


def test_a_message_reaches_rasa_as_words_never_as_a_command(tmp_path):
    rasa = ScriptedRasa()
    [(status, answer)] = exchange(
        rest_channel(tmp_path), rasa, [{"sender": "web-1", "message": '/complaint{"description": "x"}'}]
    )
    assert status == 200
    assert rasa.texts == ['complaint{"description": "x"}']
    assert rasa.received[0].input_channel == "rest"
    assert answer == [{"recipient_id": "web-1", "text": 'You said: complaint{"description": "x"}'}]


def test_a_button_payload_passes_only_when_the_bot_offered_that_button(tmp_path):
    def answer(message):
        if message.text == "pothole":
            return [{"text": "Is that right?", "buttons": [{"title": "Yes", "payload": "/affirm"}]}]
        return [{"text": "ok"}]

    rasa = ScriptedRasa(answer)
    exchange(
        rest_channel(tmp_path),
        rasa,
        [
            {"sender": "web-1", "message": "/affirm"},  # not offered: just words
            {"sender": "web-1", "message": "pothole"},
            {"sender": "web-2", "message": "/affirm"},  # offered to someone else
            {"sender": "web-1", "message": "/affirm"},
            {"sender": "web-1", "message": "/affirm"},  # offers last one turn
        ],
    )
    assert rasa.texts == ["affirm", "pothole", "affirm", "/affirm", "affirm"]


def test_too_long_and_too_fast_get_polite_answers(tmp_path):
    rasa = ScriptedRasa()
    results = exchange(
        rest_channel(tmp_path, limit=2),
        rasa,
        [
            {"sender": "web-1", "message": "x" * 2001},
            {"sender": "web-1", "message": "hello"},
            {"sender": "web-1", "message": "hello again"},
            {"sender": "web-1", "message": "and again"},
        ],
    )
    assert results[0] == (413, [{"recipient_id": "web-1", "text": replies.TOO_LONG}])
    assert results[1][0] == 200
    assert results[2] == (429, [{"recipient_id": "web-1", "text": replies.TOO_FAST}])
    assert results[3] == (429, [])
    assert rasa.texts == ["hello"]


def test_the_web_chat_is_recorded_as_web(tmp_path):
    rasa = ScriptedRasa()
    exchange(rest_channel(tmp_path, WebChatInput), rasa, [{"sender": "web-1", "message": "hello"}])
    assert rasa.received[0].input_channel == "web"
