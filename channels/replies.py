"""What the channels answer by themselves, before or instead of Rasa. Plain words, one short text message each."""

from __future__ import annotations

from collections.abc import Sequence

from channels.text import MAX_MESSAGE_CHARS

TOO_LONG = f"That message is too long for me. Please keep it under {MAX_MESSAGE_CHARS:,} characters."
TOO_FAST = "You are sending messages very fast. Please wait a minute, then try again."
WORDS_ONLY = "Sorry, I can only read words. Please type your message."

# Text messages (the carrier keywords).
SMS_OPTED_OUT = "You will get no more texts from City 311. Reply START to text us again."
SMS_OPTED_IN = "Welcome back to City 311 texts. Tell me about a problem, a complaint or a compliment."
SMS_HELP = (
    "City 311: tell me about a problem, a complaint or a compliment. "
    "Text CANCEL REPORT to stop a report, or STOP to end all texts. Call 311 for help."
)

# Telegram.
TELEGRAM_EDITED = "I can't see changes to a message. Please send the change as a new message."
TELEGRAM_GROUP = "Please write to me in a private chat, so that your report stays private."
TELEGRAM_COMMANDS = "I know /start, /help and /cancel. Or just tell me in your own words."


def ask_for_words(attachments: Sequence[dict[str, str]]) -> str:
    """Thank the resident for what they sent without words, and ask for the words."""
    photos = all(a.get("content_type", "").startswith("image/") for a in attachments)
    return f"Thanks for the {'photo' if photos else 'file'}. Please tell me in words what it is about."
