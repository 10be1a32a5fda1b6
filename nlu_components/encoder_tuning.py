"""Fine-tune the sentence encoder (all-MiniLM-L6-v2) on the training data's intents; cached by a content hash.

The network is rebuilt in TensorFlow (the bot environment's 2.12; no torch) from the package's safetensors weights:
BERT, 6 layers, hidden 384, 12 heads, FFN 1536, exact GELU, LayerNorm eps 1e-12, mean pooling over real tokens, L2
norm. Before tuning, its vectors are checked against the project's ONNX encoder (float32) to 1e-5.

Tuning: a softmax head over the intents (or the four kinds) on the normalised mean-pooled embedding, warm-started by a
logistic regression on the frozen embeddings, so the encoder's first steps follow a sensible head; the transformer
layers and the embedding LayerNorm are trained (AdamW, lr 2e-5, 10% warm-up then linear decay, weight decay 0.01 but
none on biases and LayerNorm, dropout 0.1 as BERT's, batch 32, 64 tokens at most, one epoch); the word, position and
token-type embeddings stay frozen, so that words the data never uses keep their place relative to the tuned ones.
Seeds are fixed, dropout is stateless and TensorFlow's op determinism is on: the same inputs give the same weights.

The tuned weights are written with the published tensor names to build/encoder-tuned/<hash>/model.safetensors beside
copies of the tokenizer files and config.json, so `SentenceEncoder(folder)` runs them with the existing ONNX (float32
or int8) runtime. <hash> covers the examples (text and intent), the base weights and tokenizer, the settings and this
file's code; a folder that exists is reused. On this 2-core machine one epoch over 3,444 examples took about 140 s of
CPU time (2 threads).
"""

from __future__ import annotations

import hashlib
import json
import math
import resource
import shutil
import struct
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nlu_components.encoder import DEFAULT_DIR, SentenceEncoder, load_safetensors

ROOT = Path(__file__).resolve().parent.parent
TUNED_ROOT = ROOT / "build" / "encoder-tuned"
# The settings measured (benchmarks/encoder_tuning.py); a component's `tuning` option overrides any of them.
DEFAULTS: dict[str, Any] = {
    "epochs": 1.0,
    "labels": "intent",
    "lr": 2e-5,
    "head_lr": 1e-3,
    "batch": 32,
    "max_tokens": 64,
    "seed": 17,
    "warmup": 0.1,
    "weight_decay": 0.01,
    "dropout": 0.1,
}
KINDS = ("complaint", "compliment", "service_request")
COPIED = ("config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json")
FROZEN = (
    "embeddings.word_embeddings.weight",
    "embeddings.position_embeddings.weight",
    "embeddings.token_type_embeddings.weight",
    "embeddings.position_ids",
)
CHECK_TEXTS = [
    "pothole on my street",
    "the crew on Elm St was amazing today, thank you so much for the quick work",
    "hi",
    "Why has nobody answered my complaint about the noise from the bar next door for three weeks?",
]
Examples = list[tuple[str, str]]


def settings_of(tuning: dict[str, Any] | None) -> dict[str, Any]:
    """Return the full settings: the defaults with the given ones over them; unknown names are refused."""
    unknown = set(tuning or {}) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"Unknown encoder tuning settings {sorted(unknown)}: use any of {', '.join(DEFAULTS)}.")
    settings = {**DEFAULTS, **(tuning or {})}
    if settings["labels"] not in ("intent", "kind"):
        raise ValueError(f"Encoder tuning labels must be 'intent' or 'kind', not {settings['labels']!r}.")
    return settings


def unique_examples(pairs: Iterable[tuple[str | None, str | None]]) -> Examples:
    """Return the (text, intent) pairs that have both, each once, sorted: the order of the files does not matter."""
    return sorted({(text, intent) for text, intent in pairs if text and intent})


def tuning_hash(examples: Examples, settings: dict[str, Any], base: Path = DEFAULT_DIR) -> str:
    """Return a short hash of everything the tuned weights depend on."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(json.dumps(examples).encode())
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        digest.update((base / name).read_bytes())
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()[:16]


class TFMiniLM:
    """The encoder in TensorFlow: variables named and shaped as in the safetensors file (dense weights (out, in))."""

    def __init__(self, weights: dict[str, np.ndarray], config: dict[str, Any], dropout: float = 0.1) -> None:
        import tensorflow as tf

        self.tf = tf
        self.heads = int(config["num_attention_heads"])
        self.layers = int(config["num_hidden_layers"])
        self.eps = float(config["layer_norm_eps"])
        self.dropout = dropout
        self.constants = {k: tf.constant(v) for k, v in weights.items() if k in FROZEN and v.dtype == np.float32}
        self.variables = {
            k: tf.Variable(v, name=k.replace(".", "_"))
            for k, v in weights.items()
            if k not in FROZEN and not k.startswith("pooler.")
        }

    def trainable(self) -> list[Any]:
        return [self.variables[k] for k in sorted(self.variables)]

    def __call__(self, ids: Any, mask: Any, training: bool = False, seed: Any = None) -> Any:
        """Return the normalised mean-pooled embeddings (batch, hidden) of token ids (int32) with a 0/1 mask."""
        tf = self.tf
        w = {**self.constants, **self.variables}
        hidden = w["embeddings.word_embeddings.weight"].shape[1]
        size = hidden // self.heads
        batch, length = tf.shape(ids)[0], tf.shape(ids)[1]
        calls = [0]

        def drop(x: Any) -> Any:
            if not training or not self.dropout:
                return x
            calls[0] += 1
            return tf.nn.experimental.stateless_dropout(x, self.dropout, seed=tf.stack([seed, calls[0]]))

        def norm(x: Any, prefix: str) -> Any:
            mean, var = tf.nn.moments(x, axes=[-1], keepdims=True)
            return (x - mean) * tf.math.rsqrt(var + self.eps) * w[f"{prefix}.weight"] + w[f"{prefix}.bias"]

        def dense(x: Any, prefix: str) -> Any:
            return tf.einsum("bli,oi->blo", x, w[f"{prefix}.weight"]) + w[f"{prefix}.bias"]

        def split(x: Any) -> Any:
            return tf.transpose(tf.reshape(x, [batch, length, self.heads, size]), [0, 2, 1, 3])

        x = (
            tf.gather(w["embeddings.word_embeddings.weight"], ids)
            + w["embeddings.position_embeddings.weight"][None, :length]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = drop(norm(x, "embeddings.LayerNorm"))
        padding = (1.0 - mask)[:, None, None, :] * -1e9
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}"
            q, k, v = (split(dense(x, f"{p}.attention.self.{n}")) for n in ("query", "key", "value"))
            scores = tf.matmul(q, k, transpose_b=True) / math.sqrt(size) + padding
            context = tf.matmul(drop(tf.nn.softmax(scores, axis=-1)), v)
            context = tf.reshape(tf.transpose(context, [0, 2, 1, 3]), [batch, length, hidden])
            x = norm(drop(dense(context, f"{p}.attention.output.dense")) + x, f"{p}.attention.output.LayerNorm")
            inner = tf.nn.gelu(dense(x, f"{p}.intermediate.dense"), approximate=False)
            x = norm(drop(dense(inner, f"{p}.output.dense")) + x, f"{p}.output.LayerNorm")
        pooled = tf.reduce_sum(x * mask[:, :, None], 1) / tf.maximum(tf.reduce_sum(mask, 1, keepdims=True), 1e-9)
        return tf.math.l2_normalize(pooled, axis=1, epsilon=1e-24)

    def weights(self, base: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Return the base tensors with the trained ones replaced: same names, shapes and dtypes."""
        return {k: (self.variables[k].numpy().astype(v.dtype) if k in self.variables else v) for k, v in base.items()}


def pad(sequences: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    """Return token ids (int32) and a 0/1 mask (float32), padded to the longest sequence."""
    length = max(len(s) for s in sequences)
    ids = np.zeros((len(sequences), length), dtype=np.int32)
    mask = np.zeros((len(sequences), length), dtype=np.float32)
    for row, sequence in enumerate(sequences):
        ids[row, : len(sequence)] = sequence
        mask[row, : len(sequence)] = 1.0
    return ids, mask


def save_safetensors(path: Path, tensors: dict[str, np.ndarray], metadata: dict[str, str]) -> None:
    """Write tensors as .safetensors (8-byte header size, JSON header padded to 8 bytes, data), atomically."""
    names = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64"}
    header: dict[str, Any] = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name in sorted(tensors):
        data = np.ascontiguousarray(tensors[name]).tobytes()
        header[name] = {
            "dtype": names[tensors[name].dtype],
            "shape": list(tensors[name].shape),
            "data_offsets": [offset, offset + len(data)],
        }
        blobs.append(data)
        offset += len(data)
    encoded = json.dumps(header, separators=(",", ":")).encode()
    encoded += b" " * (-len(encoded) % 8)
    partial = path.with_name(path.name + ".partial")
    with open(partial, "wb") as out:
        out.write(struct.pack("<Q", len(encoded)))
        out.write(encoded)
        for blob in blobs:
            out.write(blob)
    partial.replace(path)


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def tune(
    examples: Examples,
    tuning: dict[str, Any] | None = None,
    base: Path = DEFAULT_DIR,
    root: Path | None = None,
    threads: int = 2,
    log: Callable[[str], None] = _log,
) -> Path:
    """Return the folder of the encoder tuned on `examples` ((text, intent) pairs) with these settings, tuning it
    first unless a folder for exactly these inputs exists."""
    settings = settings_of(tuning)
    examples = unique_examples(examples)
    folder = (root or TUNED_ROOT) / tuning_hash(examples, settings, base)
    if (folder / "model.safetensors").exists():
        return folder
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    log(f"==> tuning the sentence encoder on {len(examples)} examples into {folder}")

    import tensorflow as tf
    from sklearn.linear_model import LogisticRegression
    from tokenizers import Tokenizer

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass  # TensorFlow already runs in this process (Rasa's training): it keeps its threads
    tf.keras.utils.set_random_seed(settings["seed"])
    tf.config.experimental.enable_op_determinism()

    config = json.loads((base / "config.json").read_text())
    base_weights = load_safetensors(base / "model.safetensors")
    model = TFMiniLM(base_weights, config, settings["dropout"])
    tokenizer = Tokenizer.from_file(str(base / "tokenizer.json"))
    tokenizer.no_padding()
    signature = [tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([None, None], tf.float32)]
    embed = tf.function(lambda ids, mask: model(ids, mask), input_signature=signature)

    def embed_all(texts: Sequence[str]) -> np.ndarray:
        sequences = [e.ids for e in tokenizer.encode_batch(list(texts))]
        order = sorted(range(len(texts)), key=lambda i: len(sequences[i]))
        out = np.zeros((len(texts), int(config["hidden_size"])), dtype=np.float32)
        for begin in range(0, len(order), 64):
            chosen = order[begin : begin + 64]
            out[chosen] = embed(*pad([sequences[i] for i in chosen])).numpy()
        return out

    # The TensorFlow network must compute what the ONNX encoder computes before anything is tuned.
    tokenizer.enable_truncation(256)
    difference = float(np.abs(embed_all(CHECK_TEXTS) - SentenceEncoder(base, "float32").encode(CHECK_TEXTS)).max())
    if difference > 1e-5:
        raise RuntimeError(f"The TensorFlow encoder differs from the ONNX one by {difference:.1e} before tuning.")
    tokenizer.enable_truncation(int(settings["max_tokens"]))

    texts = [text for text, _ in examples]
    labels = [
        intent if settings["labels"] == "intent" else (intent if intent in KINDS else "other") for _, intent in examples
    ]
    classes = sorted(set(labels))
    targets = np.array([classes.index(label) for label in labels], dtype=np.int32)
    warm = LogisticRegression(C=10.0, max_iter=2000, random_state=settings["seed"]).fit(embed_all(texts), targets)
    coef = warm.coef_ if len(classes) > 2 else np.vstack([-warm.coef_, warm.coef_]) / 2
    intercept = warm.intercept_ if len(classes) > 2 else np.concatenate([-warm.intercept_, warm.intercept_]) / 2
    head_w = tf.Variable(coef.T.astype(np.float32))
    head_b = tf.Variable(intercept.astype(np.float32))
    sequences = [e.ids for e in tokenizer.encode_batch(texts)]

    batch = int(settings["batch"])
    steps = max(1, round(math.ceil(len(texts) / batch) * settings["epochs"]))
    warmup = max(1, round(steps * settings["warmup"]))

    def rate(step: int) -> float:
        if step < warmup:
            return settings["lr"] * step / warmup
        return settings["lr"] * max(0.0, (steps - step) / max(1, steps - warmup))

    encoder_opt = tf.keras.optimizers.AdamW(learning_rate=0.0, weight_decay=settings["weight_decay"], epsilon=1e-6)
    encoder_opt.exclude_from_weight_decay(var_names=["bias", "LayerNorm"])
    head_opt = tf.keras.optimizers.Adam(learning_rate=settings["head_lr"])
    variables = model.trainable()

    @tf.function(input_signature=signature + [tf.TensorSpec([None], tf.int32), tf.TensorSpec([], tf.int32)])
    def train_step(ids: Any, mask: Any, y: Any, seed: Any) -> Any:
        with tf.GradientTape() as tape:
            logits = tf.matmul(model(ids, mask, training=True, seed=seed), head_w) + head_b
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(y, logits))
        grads = tape.gradient(loss, variables + [head_w, head_b])
        encoder_opt.apply_gradients(zip(grads[: len(variables)], variables))
        head_opt.apply_gradients(zip(grads[len(variables) :], [head_w, head_b]))
        return loss

    rng = np.random.default_rng(settings["seed"])
    order: list[int] = []
    losses = []
    for number in range(steps):
        if len(order) < batch:
            order += [int(i) for i in rng.permutation(len(texts))]
        chosen, order = order[:batch], order[batch:]
        encoder_opt.learning_rate = rate(number + 1)
        ids, mask = pad([sequences[i] for i in chosen])
        seed = tf.constant(settings["seed"] * 100003 + number, tf.int32)
        losses.append(float(train_step(ids, mask, targets[chosen], seed)))

    building = folder.with_name(folder.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    for name in COPIED:
        if (base / name).exists():
            shutil.copy2(base / name, building / name)
    save_safetensors(building / "model.safetensors", model.weights(base_weights), {"format": "pt"})
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    summary = {
        **settings,
        "examples": len(texts),
        "classes": len(classes),
        "steps": steps,
        "first_loss": round(float(np.mean(losses[:10])), 4),
        "last_loss": round(float(np.mean(losses[-10:])), 4),
        "wall_s": round(wall, 1),
        "cpu_s": round(cpu, 1),
    }
    (building / "tuning.json").write_text(json.dumps(summary, indent=1) + "\n")
    shutil.rmtree(folder, ignore_errors=True)
    building.replace(folder)
    log(
        f"==> tuned the sentence encoder in {wall:.0f} s ({cpu:.0f} s CPU): loss {summary['first_loss']} -> "
        f"{summary['last_loss']}"
    )
    return folder
