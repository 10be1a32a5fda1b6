"""The sentence encoder reproduces all-MiniLM-L6-v2 as sentence-transformers computes it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlu_components import encoder as encoder_module
from nlu_components.encoder import SentenceEncoder, load_safetensors

# Vectors computed once with sentence-transformers (torch) from the same weights, rounded to 6 decimals.
REFERENCE = Path(__file__).resolve().parents[1] / "data" / "encoder_reference.json"


@pytest.fixture(scope="module")
def encoder() -> SentenceEncoder:
    return SentenceEncoder()


def test_embeddings_match_the_reference_implementation() -> None:
    reference = json.loads(REFERENCE.read_text())
    vectors = SentenceEncoder().encode(reference["texts"])  # a fresh encoder: nothing served from its cache
    assert vectors.shape == (len(reference["texts"]), 384)
    assert np.abs(vectors - np.array(reference["vectors"])).max() < 1e-5


def test_batching_and_padding_do_not_change_a_vector() -> None:
    texts = ["pothole", "the crew on Elm St was amazing today, thank you so much for the quick work"]
    together = SentenceEncoder().encode(texts)
    alone = np.vstack([SentenceEncoder().encode([text]) for text in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_meaning_is_closer_than_shared_words(encoder: SentenceEncoder) -> None:
    hole, pothole, praise = encoder.encode(
        ["there is a huge hole in the road", "pothole on my street", "the road crew did a wonderful job"]
    )
    assert float(hole @ pothole) > float(hole @ praise) + 0.1


def test_a_repeated_answer_is_served_from_the_cache_and_the_cache_is_bounded(monkeypatch) -> None:
    fresh = SentenceEncoder()
    monkeypatch.setattr(encoder_module, "CACHE_SIZE", 2)
    calls = []
    compute = fresh._encode_batch
    monkeypatch.setattr(fresh, "_encode_batch", lambda sequences: calls.append(len(sequences)) or compute(sequences))
    first = fresh.encode(["Yes", "skip", "yes"])  # "Yes" and "yes" are the same tokens to an uncased model
    assert calls == [2] and np.array_equal(first[0], first[2])
    again = fresh.encode(["yes "])
    assert calls == [2] and np.array_equal(again[0], first[0])
    fresh.encode(["phone", "email"])  # two new answers push the oldest two out
    fresh.encode(["skip"])
    assert calls == [2, 2, 1]


def test_empty_input_and_empty_text(encoder: SentenceEncoder) -> None:
    assert encoder.encode([]).shape == (0, 384)
    (vector,) = encoder.encode([""])
    assert np.isfinite(vector).all()


def test_missing_files_give_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="fetch_encoder"):
        SentenceEncoder(tmp_path)


def test_safetensors_reader_reads_shapes_and_values(tmp_path: Path) -> None:
    data = np.arange(6, dtype=np.float32).reshape(2, 3)
    header = json.dumps({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, data.nbytes]}}).encode()
    path = tmp_path / "t.safetensors"
    path.write_bytes(len(header).to_bytes(8, "little") + header + data.tobytes())
    assert np.array_equal(load_safetensors(path)["w"], data)
