"""Regression guard: the trained model keeps classifying messages it never trained on well.

Three sets (benchmarks/nlu.py `SETS`): the held-out set in the training data's voice, and two outside-style sets
written apart from it (careful messages of every kind; raw public-record style). Each floor sits a few points under
what `make bench-nlu` measured at the commit that set it (see docs/benchmarks.md), so a change
that makes the classifier clearly worse on any of them fails here; the benchmark reports the exact figures.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import nlu
import pytest

# (macro-F1 floor, complaint F1 floor) per set.
# Measured 2026-12-06 with the fine-tuned encoder: held-out 0.938 (complaint 0.923), outside 0.980 (0.978),
# outside-hard 0.909 (0.883).
FLOORS = {"held-out": (0.91, 0.88), "outside": (0.95, 0.94), "outside-hard": (0.88, 0.85)}


@pytest.mark.parametrize("name", sorted(FLOORS))
def test_macro_and_complaint_f1_stay_above_their_floors(name):
    model = os.environ.get("INTAKE_MODEL")
    if not model:
        pytest.fail("INTAKE_MODEL is not set: run the tests with `make test`")
    pairs = nlu.load_heldout(nlu.SETS[name])
    assert sum(1 for _, kind in pairs if kind == "complaint") >= 60
    predicted, _ = asyncio.run(nlu.predict(Path(model), [text for text, _ in pairs]))
    table = nlu.scores([kind for _, kind in pairs], predicted)
    macro_floor, complaint_floor = FLOORS[name]
    assert table["macro"]["f1"] >= macro_floor, table
    assert table["complaint"]["f1"] >= complaint_floor, table
