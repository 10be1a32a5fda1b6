"""Small local HTTP servers that speak the APIs of outside platforms this machine cannot reach (Twilio, Telegram).

The real client libraries talk to them; each records what it was sent and can be told to fail, so tests check what
the city's residents would actually have received.
"""

from stand_ins.telegram_api import TelegramStandIn, telegram_update
from stand_ins.twilio_api import TwilioStandIn, signed_twilio_post, twilio_webhook_params

__all__ = ["TelegramStandIn", "TwilioStandIn", "signed_twilio_post", "telegram_update", "twilio_webhook_params"]
