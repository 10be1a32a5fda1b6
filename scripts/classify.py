"""Classify messages, one per line on stdin, printing one JSON object per line on stdout.

    {"text": ..., "kind": "complaint|compliment|service_request|other", "intent": ..., "confidence": ...}

Every input line gives exactly one output line, whatever it holds (empty, very long, emoji, control characters,
invalid UTF-8). Staff can use it to sort emailed feedback; the NLU benchmark uses it to measure accuracy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.chdir(ROOT)  # the model loads its spaCy pipeline by a path relative to the project
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
warnings.filterwarnings("ignore")  # library deprecation notices say nothing to someone sorting messages

from channels.text import MAX_MESSAGE_CHARS, clean_message  # noqa: E402

KINDS = ("complaint", "compliment", "service_request")


def kind_of(intent: str | None) -> str:
    """Map an intent to one of the four kinds staff sort feedback into."""
    return intent if intent in KINDS else "other"


def result_for(text: str, parse: dict[str, Any] | None) -> dict[str, Any]:
    """Return the output record for one line, given Rasa's parse of it (None when there was nothing to parse)."""
    intent = (parse or {}).get("intent") or {}
    name = intent.get("name")
    return {
        "text": text,
        "kind": kind_of(name),
        "intent": name,
        "confidence": round(float(intent.get("confidence") or 0.0), 4),
    }


async def classify_stream(model: Path, lines: Any, out: Any) -> None:
    """Parse each line with the trained model and write its record as it goes."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    for raw in lines:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        cleaned = clean_message(text)[:MAX_MESSAGE_CHARS]
        parse = await agent.parse_message(cleaned) if cleaned else None
        out.write(json.dumps(result_for(text, parse), ensure_ascii=False) + "\n")
        out.flush()


def _quiet_structlog() -> None:
    """Keep Rasa's structured debug logs off stdout, which carries only the JSON records."""
    import structlog

    structlog.configure(
        wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True, type=Path, help="trained model (.tar.gz)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    for noisy in ("rasa", "tensorflow", "absl"):
        logging.getLogger(noisy).setLevel(logging.ERROR)
    _quiet_structlog()
    asyncio.run(classify_stream(args.model, sys.stdin.buffer, sys.stdout))
    return 0


if __name__ == "__main__":
    sys.exit(main())
