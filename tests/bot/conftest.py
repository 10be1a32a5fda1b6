"""Make the project's packages (actions, channels) importable in the bot environment's tests, and share their
fixtures."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot_testing import backend_env  # noqa: E402,F401  (a fixture: a fake backend and an outbox per test)
