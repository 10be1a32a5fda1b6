"""The network of all-MiniLM-L6-v2 (a 6-layer BERT encoder) as an ONNX graph, built from its own weights.

Input: token ids and an attention mask (1 for real tokens, 0 for padding), each (batch, length). Output: the last
hidden states (batch, length, hidden size); mean pooling and normalisation are left to the caller. The arithmetic is
BERT's: embeddings (word + position + token type 0) and layer norm; then per layer self-attention with padding masked
out, a residual and layer norm, a feed-forward block with BERT's exact GELU (with erf), a residual and layer norm.
"""

from __future__ import annotations

import math
from typing import Dict, List

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # the first with LayerNormalization


class _Graph:
    """Nodes and weights being added to a graph, each output named after its node."""

    def __init__(self) -> None:
        self.nodes: List[onnx.NodeProto] = []
        self.weights: List[onnx.TensorProto] = []

    def weight(self, name: str, value: np.ndarray) -> str:
        self.weights.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def op(self, op_type: str, *inputs: str, **attributes: object) -> str:
        output = f"{op_type.lower()}_{len(self.nodes)}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [output], **attributes))
        return output


def bert_graph(weights: Dict[str, np.ndarray], heads: int, layers: int, eps: float) -> onnx.ModelProto:
    """Return the encoder as an ONNX model: inputs `input_ids` (int64) and `attention_mask` (float32), output
    `hidden` (float32)."""
    g = _Graph()
    hidden_size = weights["embeddings.word_embeddings.weight"].shape[1]
    head_size = hidden_size // heads

    def layer_norm(x: str, prefix: str) -> str:
        return g.op("LayerNormalization", x, g.weight(f"{prefix}.weight", weights[f"{prefix}.weight"]),
                    g.weight(f"{prefix}.bias", weights[f"{prefix}.bias"]), axis=-1, epsilon=eps)

    def dense(x: str, prefix: str) -> str:
        matrix = g.weight(f"{prefix}.weight", np.ascontiguousarray(weights[f"{prefix}.weight"].T))
        return g.op("Add", g.op("MatMul", x, matrix), g.weight(f"{prefix}.bias", weights[f"{prefix}.bias"]))

    def number(name: str, value: float) -> str:
        return g.weight(name, np.array(value, dtype=np.float32))

    def integers(name: str, *values: int) -> str:
        return g.weight(name, np.array(values, dtype=np.int64))

    # Embeddings: the word's, the position's (the first `length` rows), and token type 0's.
    length = g.op("Unsqueeze", g.op("Gather", g.op("Shape", "input_ids"), g.weight("one", np.array(1, np.int64))),
                  integers("axis_0", 0))
    positions = g.op("Slice", g.weight("embeddings.position_embeddings.weight",
                                       weights["embeddings.position_embeddings.weight"]),
                     integers("start_0", 0), length, integers("slice_axis", 0))
    words = g.op("Gather", g.weight("embeddings.word_embeddings.weight", weights["embeddings.word_embeddings.weight"]),
                 "input_ids")
    x = g.op("Add", g.op("Add", words, positions),
             g.weight("token_type_0", weights["embeddings.token_type_embeddings.weight"][0]))
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

        def heads_of(name: str, order: List[int]) -> str:
            return g.op("Transpose", g.op("Reshape", dense(x, f"{p}.attention.self.{name}"), split), perm=order)

        query, key, value = heads_of("query", [0, 2, 1, 3]), heads_of("key", [0, 2, 3, 1]), heads_of("value", [0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", query, key), scale), padding)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), value)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge)
        x = layer_norm(g.op("Add", dense(context, f"{p}.attention.output.dense"), x), f"{p}.attention.output.LayerNorm")
        inner = dense(x, f"{p}.intermediate.dense")
        gelu = g.op("Mul", g.op("Mul", inner, half), g.op("Add", one, g.op("Erf", g.op("Div", inner, root_two))))
        x = layer_norm(g.op("Add", dense(gelu, f"{p}.output.dense"), x), f"{p}.output.LayerNorm")

    g.nodes.append(helper.make_node("Identity", [x], ["hidden"]))
    graph = helper.make_graph(
        g.nodes, "sentence_encoder",
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
         helper.make_tensor_value_info("attention_mask", TensorProto.FLOAT, ["batch", "length"])],
        [helper.make_tensor_value_info("hidden", TensorProto.FLOAT, ["batch", "length", hidden_size])],
        g.weights,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = 8  # what ONNX Runtime reads for opset 17
    onnx.checker.check_model(model)
    return model
