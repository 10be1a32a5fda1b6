"""The network of all-MiniLM-L6-v2 (a 6-layer BERT encoder) as an ONNX graph, built from its own weights.

Input: token ids and an attention mask (1 for real tokens, 0 for padding), each (batch, length). Output: the last
hidden states (batch, length, hidden size); mean pooling and normalisation are left to the caller. The arithmetic is
BERT's: embeddings (word + position + token type 0) and layer norm; then per layer self-attention with padding masked
out, a residual and layer norm, a feed-forward block with BERT's exact GELU (with erf), a residual and layer norm.

Any of the six dense layers of each encoder layer (`DENSE_LAYERS`) can run in int8, as ONNX Runtime's
`quantize_dynamic` would make it but without its cost at load: the weight matrix is quantized here, in numpy,
symmetric with one scale per output column; in the graph the activation is quantized per run
(DynamicQuantizeLinear: uint8, one scale and zero point for the whole tensor), multiplied as integers (MatMulInteger),
and scaled back to float by activation scale x column scales before the bias. ONNX Runtime fuses that pattern into
its own int8 kernels (MatMulIntegerToFloat, DynamicQuantizeMatMul). The attention products (query x key,
weights x value) have no fixed weights and stay float32. Because the activation scale is one per run, an int8
vector depends a little on the other texts run with it and on their padding; the caller runs texts alone for that.
"""

from __future__ import annotations

import math
from collections.abc import Collection

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # the first with LayerNormalization
# The dense layers of each encoder layer, named as in the weights after "encoder.layer.<n>.".
DENSE_LAYERS = (
    "attention.self.query",
    "attention.self.key",
    "attention.self.value",
    "attention.output.dense",
    "intermediate.dense",
    "output.dense",
)


class _Graph:
    """Nodes and weights being added to a graph, each output named after its node."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.weights: list[onnx.TensorProto] = []

    def weight(self, name: str, value: np.ndarray) -> str:
        self.weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: object) -> str:
        return self.op_outputs(op_type, 1, *inputs, **attributes)[0]

    def op_outputs(self, op_type: str, count: int, *inputs: str, **attributes: object) -> list[str]:
        """Add a node with `count` outputs; return their names."""
        name = f"{op_type.lower()}_{len(self.nodes)}"
        outputs = [name] + [f"{name}_{i}" for i in range(1, count)]
        self.nodes.append(helper.make_node(op_type, list(inputs), outputs, **attributes))
        return outputs


def quantize_columns(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (int8 matrix, float32 scale per column) with matrix ~= int8 x scale: symmetric, in [-127, 127], one
    scale per output column, as `quantize_dynamic(per_channel=True)` computes it."""
    largest = np.abs(matrix).max(axis=0)
    scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
    return np.clip(np.rint(matrix / scale), -127, 127).astype(np.int8), scale


def bert_graph(
    weights: dict[str, np.ndarray], heads: int, layers: int, eps: float, int8: Collection[str] = ()
) -> onnx.ModelProto:
    """Return the encoder as an ONNX model: inputs `input_ids` (int64) and `attention_mask` (float32), output
    `hidden` (float32). The dense layers named in `int8` (of `DENSE_LAYERS`) run with int8 weights in every layer."""
    unknown = set(int8) - set(DENSE_LAYERS)
    assert not unknown, f"not dense layers of the encoder: {sorted(unknown)}"
    g = _Graph()
    hidden_size = weights["embeddings.word_embeddings.weight"].shape[1]
    head_size = hidden_size // heads

    def layer_norm(x: str, prefix: str) -> str:
        return g.op(
            "LayerNormalization",
            x,
            g.weight(f"{prefix}.weight", weights[f"{prefix}.weight"]),
            g.weight(f"{prefix}.bias", weights[f"{prefix}.bias"]),
            axis=-1,
            epsilon=eps,
        )

    def dense(x: str, layer: str, name: str) -> str:
        prefix = f"{layer}.{name}"
        matrix = np.ascontiguousarray(weights[f"{prefix}.weight"].T)
        if name in int8:
            product = int8_matmul(x, matrix, prefix)
        else:
            product = g.op("MatMul", x, g.weight(f"{prefix}.weight", matrix))
        return g.op("Add", product, g.weight(f"{prefix}.bias", weights[f"{prefix}.bias"]))

    def int8_matmul(x: str, matrix: np.ndarray, prefix: str) -> str:
        # x (uint8, scale, zero point) times matrix (int8, a scale per column, zero point 0), back to float32.
        quantized, column_scales = quantize_columns(matrix)
        x_int, x_scale, x_zero = g.op_outputs("DynamicQuantizeLinear", 3, x)
        product = g.op("MatMulInteger", x_int, g.weight(f"{prefix}.weight_int8", quantized), x_zero)
        scales = g.op("Mul", x_scale, g.weight(f"{prefix}.weight_scale", column_scales))
        return g.op("Mul", g.op("Cast", product, to=TensorProto.FLOAT), scales)

    def number(name: str, value: float) -> str:
        return g.weight(name, np.array(value, dtype=np.float32))

    def integers(name: str, *values: int) -> str:
        return g.weight(name, np.array(values, dtype=np.int64))

    # Embeddings: the word's, the position's (the first `length` rows), and token type 0's.
    length = g.op(
        "Unsqueeze",
        g.op("Gather", g.op("Shape", "input_ids"), g.weight("one", np.array(1, np.int64))),
        integers("axis_0", 0),
    )
    positions = g.op(
        "Slice",
        g.weight("embeddings.position_embeddings.weight", weights["embeddings.position_embeddings.weight"]),
        integers("start_0", 0),
        length,
        integers("slice_axis", 0),
    )
    words = g.op(
        "Gather",
        g.weight("embeddings.word_embeddings.weight", weights["embeddings.word_embeddings.weight"]),
        "input_ids",
    )
    x = g.op(
        "Add",
        g.op("Add", words, positions),
        g.weight("token_type_0", weights["embeddings.token_type_embeddings.weight"][0]),
    )
    x = layer_norm(x, "embeddings.LayerNorm")

    # Padding gets a large negative score, so that no token attends to it: (1 - mask) * -1e9, as (batch, 1, 1, length).
    padding = g.op("Mul", g.op("Sub", number("one_f", 1.0), "attention_mask"), number("minus_large", -1e9))
    padding = g.op("Unsqueeze", padding, integers("axes_1_2", 1, 2))
    split = integers("split_heads", 0, 0, heads, head_size)  # 0 keeps that dimension
    merge = integers("merge_heads", 0, 0, hidden_size)
    scale = number("scale", 1.0 / math.sqrt(head_size))
    half, one, root_two = number("half", 0.5), number("one_g", 1.0), number("root_two", math.sqrt(2.0))

    for layer in range(layers):
        p = f"encoder.layer.{layer}"

        def heads_of(name: str, order: list[int]) -> str:
            # Called right away, inside this layer's loop turn: the loop's x and p are the ones meant.
            return g.op("Transpose", g.op("Reshape", dense(x, p, f"attention.self.{name}"), split), perm=order)  # noqa: B023

        query, key, value = (
            heads_of("query", [0, 2, 1, 3]),
            heads_of("key", [0, 2, 3, 1]),
            heads_of("value", [0, 2, 1, 3]),
        )
        scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), padding)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        x = layer_norm(g.op("Add", dense(context, p, "attention.output.dense"), x), f"{p}.attention.output.LayerNorm")
        inner = dense(x, p, "intermediate.dense")
        gelu = g.op("Mul", g.op("Mul", inner, half), g.op("Add", one, g.op("Erf", g.op("Div", inner, root_two))))
        x = layer_norm(g.op("Add", dense(gelu, p, "output.dense"), x), f"{p}.output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        g.nodes,
        "sentence_encoder",
        [
            helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
            helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"]),
        ],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", hidden_size])],
        g.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what ONNX Runtime reads for opset 17
    onnx.checker.check_model(model)
    return model
