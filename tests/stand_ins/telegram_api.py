"""A local stand-in for Telegram's Bot API, and real `Update` JSON for the tests to send.

`TelegramStandIn` answers python-telegram-bot's calls at `{url}/bot<token>/<method>` (getMe, setWebhook,
deleteWebhook, getWebhookInfo, sendMessage, sendChatAction) with Telegram's `{"ok": ..., "result": ...}` envelope,
records every message sent, and delivers updates to the registered webhook with the registered secret token, the
way Telegram's servers do.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
import urllib.error
import urllib.request
from typing import Any

from stand_ins.http_stand_in import Reply, StandInServer

BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "City 311",
    "username": "city311_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}
_update_ids = itertools.count(100000)
_message_ids = itertools.count(1)


def _fail(code: int, description: str, **parameters: Any) -> Reply:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return code, body


class TelegramStandIn(StandInServer):
    """Telegram's Bot API on a local port, for one bot token."""

    def __init__(self, token: str | None = None) -> None:
        super().__init__()
        self.token = token or f"{BOT_USER['id']}:{secrets.token_urlsafe(26)}"
        self.sent: list[dict[str, Any]] = []
        self.webhook: dict[str, Any] = {}
        self.calls: list[str] = []
        self._failures: list[Reply] = []

    def fail_next(self, code: int, description: str, times: int = 1, **parameters: Any) -> None:
        """Answer the next `times` sendMessage calls with this error (e.g. 429 with retry_after=1)."""
        with self.lock:
            self._failures.extend([_fail(code, description, **parameters)] * times)

    def sent_to(self, chat_id: int) -> list[dict[str, Any]]:
        """Return the messages sent to `chat_id` ({"text", "reply_markup"}), in order."""
        with self.lock:
            return [m for m in self.sent if m["chat_id"] == chat_id]

    def wait_for_messages(self, chat_id: int, count: int, timeout: float = 60.0) -> list[dict[str, Any]]:
        """Wait until `count` messages were sent to `chat_id` in all; return them all."""
        self.wait_until(lambda: len([m for m in self.sent if m["chat_id"] == chat_id]) >= count, timeout)
        return self.sent_to(chat_id)

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Reply:
        with self.lock:
            reply = self._handle(path, body or {})
            self.lock.notify_all()
            return reply

    def _handle(self, path: str, params: dict[str, Any]) -> Reply:
        prefix, _, name = path.rpartition("/")
        if prefix != f"/bot{self.token}":
            return _fail(401, "Unauthorized")
        self.calls.append(name)
        if name == "getMe":
            return 200, {"ok": True, "result": BOT_USER}
        if name == "setWebhook":
            self.webhook = {
                "url": params.get("url"),
                "secret_token": params.get("secret_token"),
                "allowed_updates": json.loads(params.get("allowed_updates") or "null"),
            }
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        if name == "deleteWebhook":
            self.webhook = {}
            return 200, {"ok": True, "result": True}
        if name == "getWebhookInfo":
            return 200, {
                "ok": True,
                "result": {
                    "url": self.webhook.get("url", ""),
                    "has_custom_certificate": False,
                    "pending_update_count": 0,
                },
            }
        if name == "sendChatAction":
            return 200, {"ok": True, "result": True}
        if name != "sendMessage":
            return _fail(404, "Not Found")
        if self._failures:
            return self._failures.pop(0)
        text = params.get("text") or ""
        if not text.strip():
            return _fail(400, "Bad Request: message text is empty")
        if len(text) > 4096:
            return _fail(400, "Bad Request: message is too long")
        chat_id = int(params["chat_id"])
        markup = json.loads(params["reply_markup"]) if params.get("reply_markup") else None
        self.sent.append({"chat_id": chat_id, "text": text, "reply_markup": markup})
        return 200, {
            "ok": True,
            "result": {
                "message_id": next(_message_ids),
                "from": BOT_USER,
                "date": int(time.time()),
                "text": text,
                "chat": {"id": chat_id, "type": "private", "first_name": "Resident"},
            },
        }

    def deliver(self, update: dict[str, Any], *, secret: str | None = None, url: str | None = None) -> tuple[int, str]:
        """POST an update to the registered webhook as Telegram does; return (status, body).

        `secret` replaces the registered secret token ("" sends none); `url` the registered URL.
        """
        token = self.webhook.get("secret_token") if secret is None else secret
        headers = {"Content-Type": "application/json"}
        if token:
            headers["X-Telegram-Bot-Api-Secret-Token"] = token
        request = urllib.request.Request(
            url or self.webhook["url"], data=json.dumps(update).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()


def telegram_update(
    chat_id: int,
    text: str | None = None,
    *,
    location: tuple[float, float] | None = None,
    photo: bool = False,
    caption: str | None = None,
    edited: bool = False,
    chat_type: str = "private",
    update_id: int | None = None,
) -> dict[str, Any]:
    """Return an Update as Telegram's servers send it, for a message from the resident with id `chat_id`."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Resident", "language_code": "en"}
    chat = (
        {"id": chat_id, "type": "private", "first_name": "Resident"}
        if chat_type == "private"
        else {"id": -chat_id, "type": chat_type, "title": "Neighbours"}
    )
    message: dict[str, Any] = {"message_id": next(_message_ids), "from": user, "chat": chat, "date": int(time.time())}
    if text is not None:
        message["text"] = text
        if text.startswith("/"):
            message["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    if location is not None:
        message["location"] = {"latitude": location[0], "longitude": location[1]}
    if photo:
        message["photo"] = [
            {
                "file_id": f"AgAC{secrets.token_hex(8)}",
                "file_unique_id": secrets.token_hex(6),
                "width": w,
                "height": h,
                "file_size": w * h // 10,
            }
            for w, h in ((90, 67), (320, 240), (1280, 960))
        ]
    if caption is not None:
        message["caption"] = caption
    if edited:
        message["edit_date"] = int(time.time())
    return {
        "update_id": update_id if update_id is not None else next(_update_ids),
        ("edited_message" if edited else "message"): message,
    }
