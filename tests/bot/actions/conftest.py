"""Fixtures shared by the actions' tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from bot_testing import catalog_json

from actions import catalog

CATALOG = catalog.Catalog.from_json(catalog_json())


@pytest.fixture
def known_catalog(backend_env: Path) -> Iterator[catalog.Catalog]:
    """Have the actions use the real catalog (backend/catalog.yml) without a backend."""
    catalog._cache.update(catalog=CATALOG, fetched=time.monotonic(), failed=0.0)
    yield CATALOG
