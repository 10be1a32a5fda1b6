"""One resident message through Rasa, the same way on every channel.

Each connector turns its platform's request into an `Incoming` message and its replies back into the platform's
form; everything in between happens here, once: the rate limit, the size limit, making the text safe, picking an
offered option, carrying attachments, and remembering the options the bot offers next.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage

from channels import replies
from channels.limits import RateLimiter, Verdict
from channels.options import chosen_payload, options_from_buttons
from channels.state import ChannelState
from channels.text import clean_message, is_too_long

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


@dataclass(frozen=True)
class Incoming:
    """A resident's message as the connector received it.

    `command` is an intent the connector itself chose (e.g. "/help" for Telegram's /help): it goes to Rasa as
    it is. `text` is the resident's own words, never read as a command.
    """

    sender_id: str
    text: str = ""
    command: str | None = None
    attachments: tuple[dict[str, str], ...] = ()
    metadata: dict[str, Any] = field(default_factory=dict)


class ChannelCommand(UserMessage):
    """A message whose text is an intent the channel itself chose (a button the bot offered, Telegram's /help).

    The one kind of message Rasa may read as an `/intent` command: the guard installed in Rasa's server
    (serving/intent_guard.py) turns any other message that would read as one into words. It knows these by
    `chosen_by_channel`, an attribute no request can set.
    """

    chosen_by_channel = True


@dataclass
class TurnResult:
    """The bot's replies to one message, in Rasa's collected form, and how the message was taken."""

    status: str  # "answered", "too_fast", "too_long", "no_words"
    replies: list[dict[str, Any]]


def reply(sender_id: str, text: str) -> dict[str, Any]:
    """Return a reply the channel makes by itself, shaped like Rasa's."""
    return {"recipient_id": sender_id, "text": text}


class Turns:
    """Take residents' messages of one channel to Rasa and bring back the replies."""

    def __init__(self, channel: str, state: ChannelState, limiter: RateLimiter, *, options_by_number: bool) -> None:
        self.channel = channel
        self.state = state
        self.limiter = limiter
        self.options_by_number = options_by_number

    async def handle(self, incoming: Incoming, on_new_message: OnNewMessage) -> TurnResult:
        """Check the message, hand it to Rasa, and return the replies."""
        sender = incoming.sender_id
        verdict = self.limiter.check(sender)
        if verdict is not Verdict.ALLOW:
            return TurnResult("too_fast", [reply(sender, replies.TOO_FAST)] if verdict is Verdict.WARN else [])
        if is_too_long(incoming.text):
            return TurnResult("too_long", [reply(sender, replies.TOO_LONG)])
        offered_before = await self.state.offered_options(sender)
        chosen = chosen_payload(incoming.text, offered_before, by_number=self.options_by_number)
        command = incoming.command or chosen
        text = command or clean_message(incoming.text)
        if not text:
            if incoming.attachments:
                await self.state.keep_attachments(sender, incoming.attachments)
                return TurnResult("no_words", [reply(sender, replies.ask_for_words(incoming.attachments))])
            return TurnResult("no_words", [reply(sender, replies.WORDS_ONLY)])
        metadata = dict(incoming.metadata)
        attachments = await self.state.take_attachments(sender) + list(incoming.attachments)
        if attachments:
            metadata["attachments"] = attachments
        collector = CollectingOutputChannel()
        kind = ChannelCommand if command else UserMessage
        await on_new_message(kind(text, collector, sender, input_channel=self.channel, metadata=metadata or None))
        offered = [options_from_buttons(m.get("buttons")) for m in collector.messages]
        offered_now = next((o for o in reversed(offered) if o), [])
        if offered_now or offered_before:  # nothing to forget and nothing new: no write
            await self.state.offer_options(sender, offered_now)
        return TurnResult("answered", collector.messages)


class NotDelivered(Exception):
    """A message outside a turn did not reach the resident. Raised inside Rasa's call, it fails the call (Rasa's
    HTTP API answers 500) and Rasa keeps nothing of it, so the sender (the outbox, a staff reply) knows to try
    again instead of believing the resident was told."""


def _has_content(message: dict[str, Any]) -> bool:
    return any(message.get(key) for key in ("text", "buttons", "image", "attachment"))


class PushOutput(OutputChannel):
    """Send the bot's messages to a resident outside a turn (e.g. a staff reply), through the channel's `push`;
    a message the platform did not accept raises NotDelivered."""

    def __init__(self, channel: InputChannel) -> None:
        self.channel = channel

    def name(self) -> str:  # type: ignore[override]  # Rasa's is a classmethod; here the channel decides
        return str(self.channel.name())

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        sent = await self.channel.push(recipient_id, [message])  # type: ignore[attr-defined]
        if not sent and _has_content(message):
            raise NotDelivered(f"the {self.name()} message was not delivered")  # no number, chat or words

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class MailboxOutput(OutputChannel):
    """Keep the bot's messages outside a turn for a conversation nothing can push to (web chat, REST): durably, in
    the channels' state, until the widget or client fetches them (channels/rest.py)."""

    def __init__(self, channel: InputChannel, state: ChannelState) -> None:
        self.channel = channel
        self.state = state

    def name(self) -> str:  # type: ignore[override]
        return str(self.channel.name())

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        if _has_content(message):
            kept = {key: message[key] for key in ("text", "buttons", "image", "attachment") if message.get(key)}
            await self.state.keep_for_later(recipient_id, [{"recipient_id": recipient_id, **kept}])

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})
