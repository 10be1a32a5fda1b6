"""The shape of one turn of a transcript."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

from pydantic import BaseModel


class Role(str, Enum):
    """Who said it."""

    RESIDENT = "resident"
    BOT = "bot"


class Button(BaseModel):
    """A button the assistant offered: what it said, and what it sends back when pressed."""

    title: str
    payload: str


class Turn(BaseModel):
    """One message of the conversation; intent and confidence are the classifier's reading of resident turns."""

    role: Role
    text: str | None
    timestamp: datetime
    intent: str | None = None
    confidence: float | None = None
    # Files the resident sent with the message, as the channel described them (e.g. url or telegram_file_id,
    # content_type): shown to staff as text, never fetched.
    attachments: list[dict[str, str]] = []
    # The buttons an assistant turn offered; on a resident turn whose text is one of their payloads, the title of
    # the button the resident pressed (the text stays the payload Rasa received).
    buttons: list[Button] = []
    button_title: str | None = None
