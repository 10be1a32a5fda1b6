"""Rasa's side of "no resident's message is ever read as an `/intent` command", for every input channel.

Rasa reads a message whose text starts with "/" (after stripping white space) as an intent with entities, set by
whoever sent it: `/EXTERNAL_staff_reply{"staff_reply": "..."}` would make the assistant say anyone's words as a
staff reply. The project's channels clean residents' words before Rasa sees them (channels/text.py); this guard
holds even for a channel that forgets, Rasa's own `rest` channel included. It wraps `Agent.handle_message`, where
every channel's messages enter Rasa (`rasa.core.channels.channel.register` hands each channel that method), and
turns any message that would read as a command into words, unless the channel chose it as a command: an offered
button's payload or Telegram's /help, which the project's channels send as a message with `chosen_by_channel`
set (channels/turn.py). Intents from the backend and the action servers (`trigger_intent`, external events) come
through Rasa's HTTP API with its token, not through a channel, and are not affected.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.shared.constants import INTENT_MESSAGE_PREFIX

logger = logging.getLogger(__name__)

_rasa_handle_message = Agent.handle_message


def reads_as_command(text: str | None) -> bool:
    """Say whether Rasa would read this text as an intent command: `UserMessage` strips it, and Rasa's
    `RegexMessageHandler` strips it again and checks that it starts with "/"."""
    return (text or "").strip().startswith(INTENT_MESSAGE_PREFIX)


def as_words(text: str) -> str:
    """Return the text without the leading slashes and white space that would make Rasa read it as a command."""
    while reads_as_command(text):
        text = text.strip()[len(INTENT_MESSAGE_PREFIX) :]
    return text.strip()


def chosen_by_channel(message: UserMessage) -> bool:
    """Say whether a channel sent this message's text as a command it chose itself."""
    return getattr(message, "chosen_by_channel", False) is True


def guarded(handle_message: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    """Wrap `Agent.handle_message` so that a resident's message is never read as a command."""

    @functools.wraps(handle_message)
    async def handle_words(agent: Agent, message: UserMessage) -> Any:
        if reads_as_command(message.text) and not chosen_by_channel(message):
            logger.warning(
                "a message on the %s channel read as an intent command; taken as words", message.input_channel
            )
            message.text = as_words(message.text)
            if not message.text:
                return None
        return await handle_message(agent, message)

    return handle_words


def install() -> None:
    """Guard every message a channel hands to Rasa's agent."""
    Agent.handle_message = guarded(_rasa_handle_message)  # type: ignore[method-assign]


def uninstall() -> None:
    """Give Rasa's own `Agent.handle_message` back (for tests of the stock behaviour)."""
    Agent.handle_message = _rasa_handle_message  # type: ignore[method-assign]
