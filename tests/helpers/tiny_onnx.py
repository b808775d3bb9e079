"""Tiny randomly initialised ONNX models with the signatures of OpenMMLab's RTMO, RTMPose and detector exports.

The networks are small (global pooling and a random linear layer) but take and give exactly the tensors
the real exports do, so the backends' pre- and post-processing and onnxruntime plumbing run for real.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def _head(name: str, features: str, size: int, rng: np.random.Generator, scale: list[float], shape: list[int],
          offset: list[float]):  # fmt: skip
    """features (1, 3) -> Sigmoid(features @ W + b) * scale + offset, reshaped to ``shape``."""
    weight = numpy_helper.from_array(rng.normal(size=(3, size)).astype(np.float32), f"{name}_w")
    bias = numpy_helper.from_array(rng.normal(size=(size,)).astype(np.float32), f"{name}_b")
    scale_t = numpy_helper.from_array(np.resize(np.array(scale, np.float32), size), f"{name}_scale")
    offset_t = numpy_helper.from_array(np.resize(np.array(offset, np.float32), size), f"{name}_offset")
    shape_t = numpy_helper.from_array(np.array(shape, np.int64), f"{name}_shape")
    nodes = [
        helper.make_node("Gemm", [features, f"{name}_w", f"{name}_b"], [f"{name}_lin"]),
        helper.make_node("Sigmoid", [f"{name}_lin"], [f"{name}_sig"]),
        helper.make_node("Mul", [f"{name}_sig", f"{name}_scale"], [f"{name}_scaled"]),
        helper.make_node("Add", [f"{name}_scaled", f"{name}_offset"], [f"{name}_flat"]),
        helper.make_node("Reshape", [f"{name}_flat", f"{name}_shape"], [name]),
    ]
    return nodes, [weight, bias, scale_t, offset_t, shape_t]


def _model(path: Path, height: int, width: int, heads, extra_outputs=(), seed: int = 0) -> Path:
    rng = np.random.default_rng(seed)
    nodes = [
        helper.make_node("GlobalAveragePool", ["input"], ["pooled"]),
        helper.make_node("Flatten", ["pooled"], ["features"]),
    ]
    inits, outputs = [], []
    for name, size, scale, shape, *offset in heads:
        head_nodes, head_inits = _head(name, "features", size, rng, scale, shape, offset[0] if offset else [0.0])
        nodes += head_nodes
        inits += head_inits
        outputs.append(helper.make_tensor_value_info(name, TensorProto.FLOAT, shape))
    for name, value in extra_outputs:
        nodes.append(helper.make_node("Constant", [], [name], value=numpy_helper.from_array(value, name + "_v")))
        outputs.append(helper.make_tensor_value_info(name, TensorProto.INT64, list(value.shape)))
    graph = helper.make_graph(
        nodes,
        "tiny",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, height, width])],
        outputs,
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return path


def _boxes_head(name: str, count: int, size: int):
    """x0, y0 in [0, size/2) and x1, y1 in [size/2, size), score in (0, 1): always proper boxes."""
    half = size / 2
    return (name, count * 5, [half, half, half, half, 1.0], [1, count, 5], [0, 0, half, half, 0])


def rtmo(path: Path, size: int = 64, people: int = 4) -> Path:
    keypoints = ("keypoints", people * 17 * 3, [size, size, 1.0], [1, people, 17, 3])
    return _model(path, size, size, [_boxes_head("dets", people, size), keypoints])


def rtmpose(path: Path, height: int = 32, width: int = 24) -> Path:
    return _model(path, height, width, [
        ("simcc_x", 17 * width * 2, [1.0], [1, 17, width * 2]),
        ("simcc_y", 17 * height * 2, [1.0], [1, 17, height * 2]),
    ], seed=1)  # fmt: skip


def detector_end2end(path: Path, size: int = 64, boxes: int = 3) -> Path:
    labels = ("labels", np.zeros((1, boxes), np.int64))
    return _model(path, size, size, [_boxes_head("dets", boxes, size)], extra_outputs=[labels], seed=2)
