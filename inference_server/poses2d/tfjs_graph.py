"""Translate a TF.js graph model (``model.json`` + weight shards) to ONNX, without TensorFlow.

A TF.js graph model is a TensorFlow GraphDef written as JSON (``modelTopology``) whose constants live in
binary shards described by ``weightsManifest`` (float32 constants often quantised to float16). Only the
ops in ``SUPPORTED_OPS`` are translated and any other op is refused by name, so a model needing more never
converts silently wrong. Sub-graphs of constants (the shape arithmetic onnx-tf leaves behind, such as a
``SparseToDense`` over an empty index set) are folded in NumPy at translation time; NHWC ops are wrapped in
transposes that onnxruntime's optimiser cancels against the model's own.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

OPSET = 17  # onnxruntime >= 1.17 (the project's floor) runs it
_DTYPES = {"DT_FLOAT": np.float32, "DT_INT32": np.int32, "DT_INT64": np.int64, "DT_BOOL": np.bool_}
_STORED = {"float32": np.float32, "int32": np.int32, "bool": np.bool_, "float16": np.float16}
_TO_NCHW, _TO_NHWC = (0, 3, 1, 2), (0, 2, 3, 1)


class TfjsGraphError(ValueError):
    """The model uses something this translator does not handle; the message names the op or weight."""


@dataclass(frozen=True)
class TfjsGraph:
    nodes: tuple[dict, ...]  # GraphDef NodeDefs as JSON dicts, in an order where inputs come first
    constants: dict[str, np.ndarray]  # Const node name -> value, dtype as the node declares it
    outputs: tuple[str, ...]  # output tensor names, e.g. "Identity:0"


def _split_ref(ref: str) -> tuple[str, int]:
    """'node' -> ('node', 0); 'node:1' -> ('node', 1)."""
    name, _, index = ref.partition(":")
    return name, int(index) if index else 0


def _tensor(ref: str) -> str:
    name, index = _split_ref(ref)
    return f"{name}:{index}"


def _data_inputs(node: dict) -> list[str]:
    """Input tensor names, without control dependencies ('^node')."""
    return [_tensor(ref) for ref in node.get("input", []) if not ref.startswith("^")]


def _decode_weight(entry: dict, data: bytes, offset: int) -> tuple[np.ndarray, int]:
    """One manifest entry -> (float32/int32/bool array, bytes it used), float16 dequantised to float32."""
    quantization = entry.get("quantization")
    stored = quantization["dtype"] if quantization else entry["dtype"]
    if stored not in _STORED or (quantization and stored != "float16"):
        raise TfjsGraphError(f"weight {entry['name']}: stored as {stored}, which is not supported")
    shape = tuple(int(d) for d in entry["shape"])
    dtype = np.dtype(_STORED[stored])
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if offset + size > len(data):
        raise TfjsGraphError(f"weight {entry['name']}: the weight files end before its {size} bytes")
    array = np.frombuffer(data, dtype=dtype, count=size // dtype.itemsize, offset=offset).reshape(shape)
    return (array.astype(np.float32) if stored == "float16" else array.copy()), size


def read_weights(manifest: list[dict], folder: Path) -> dict[str, np.ndarray]:
    """``weightsManifest`` + the shard files next to ``model.json`` -> name -> array."""
    weights: dict[str, np.ndarray] = {}
    for group in manifest:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            weights[entry["name"]], size = _decode_weight(entry, data, offset)
            offset += size
    return weights


def _topological(nodes: list[dict]) -> tuple[dict, ...]:
    """Nodes ordered so every node follows its inputs (GraphDef JSON need not be ordered)."""
    by_name = {node["name"]: node for node in nodes}
    done: set[str] = set()
    ordered: list[dict] = []
    for root in nodes:
        stack = [(root["name"], False)]
        while stack:
            name, expanded = stack.pop()
            if name in done:
                continue
            if name not in by_name:
                raise TfjsGraphError(f"the graph refers to a node {name!r} it does not define")
            if expanded:
                done.add(name)
                ordered.append(by_name[name])
                continue
            stack.append((name, True))
            stack.extend((_split_ref(ref)[0], False) for ref in _data_inputs(by_name[name]))
    return tuple(ordered)


def _constants(nodes: tuple[dict, ...], weights: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    constants = {}
    for node in nodes:
        if node["op"] != "Const":
            continue
        if node["name"] not in weights:
            raise TfjsGraphError(f"Const {node['name']}: no value in the weights manifest")
        declared = node.get("attr", {}).get("dtype", {}).get("type", "DT_FLOAT")
        if declared not in _DTYPES:
            raise TfjsGraphError(f"Const {node['name']}: dtype {declared} is not supported")
        constants[node["name"]] = weights[node["name"]].astype(_DTYPES[declared])  # TF.js stores int64 as int32
    return constants


def load_tfjs_graph(model_json: Path) -> TfjsGraph:
    """Read ``model.json`` and its weight shards; refuse unsupported ops before translating anything."""
    model = json.loads(Path(model_json).read_text())
    if model.get("format") not in (None, "graph-model"):
        raise TfjsGraphError(f"{model_json}: a TF.js {model['format']!r}, not a graph model")
    nodes = _topological(model["modelTopology"]["node"])
    unsupported = sorted({node["op"] for node in nodes} - set(SUPPORTED_OPS))
    if unsupported:
        raise TfjsGraphError(f"{model_json}: unsupported TF ops {', '.join(unsupported)}")
    weights = read_weights(model.get("weightsManifest", []), Path(model_json).parent)
    signature = model.get("signature", {}).get("outputs", {})
    outputs = [signature[key].get("name", key) for key in sorted(signature)]  # keys may be names, not tensors
    if not outputs:  # no signature: every tensor nobody consumes
        used = {_split_ref(ref)[0] for node in nodes for ref in node.get("input", [])}
        outputs = [f"{node['name']}:0" for node in nodes if node["name"] not in used and node["op"] != "Const"]
    return TfjsGraph(nodes, _constants(nodes, weights), tuple(_tensor(ref) for ref in outputs))


# ---- attributes -------------------------------------------------------------------------------------------


def _attr(node: dict, key: str) -> dict:
    try:
        return node["attr"][key]
    except KeyError:
        raise TfjsGraphError(f"{node['op']} {node['name']}: attribute {key!r} is missing") from None


def _attr_str(node: dict, key: str, default: str | None = None) -> str:
    if default is not None and key not in node.get("attr", {}):
        return default
    return base64.b64decode(_attr(node, key)["s"]).decode()


def _attr_ints(node: dict, key: str) -> list[int]:
    return [int(i) for i in _attr(node, key).get("list", {}).get("i", [])]


def _attr_strs(node: dict, key: str) -> list[str]:
    """A list(string) attribute, empty when absent."""
    return [base64.b64decode(s).decode() for s in node.get("attr", {}).get(key, {}).get("list", {}).get("s", [])]


def _attr_bool(node: dict, key: str) -> bool:
    return bool(node.get("attr", {}).get(key, {}).get("b", False))


# ---- constant folding -------------------------------------------------------------------------------------


def _sparse_to_dense(indices: np.ndarray, shape: np.ndarray, values: np.ndarray, default: np.ndarray) -> np.ndarray:
    """TF SparseToDense: ``indices`` (N,) or (N, rank), ``values`` (N,) or a scalar."""
    index = np.asarray(indices).reshape(-1, 1) if np.ndim(indices) < 2 else np.asarray(indices)
    dense = np.full(tuple(np.atleast_1d(shape)), default, dtype=values.dtype)
    if index.shape[1] != dense.ndim:
        raise TfjsGraphError(f"SparseToDense: indices of rank {index.shape[1]} for a rank-{dense.ndim} output")
    dense[tuple(index.T)] = np.broadcast_to(values, (len(index),))
    return dense


FOLDERS: dict[str, Callable[..., np.ndarray]] = {
    "Identity": lambda x: x,
    "Add": np.add,
    "AddV2": np.add,
    "Reshape": lambda x, shape: np.reshape(x, tuple(int(d) for d in shape)),
    "Transpose": lambda x, perm: np.transpose(x, tuple(int(p) for p in perm)),
    "ConcatV2": lambda *xs: np.concatenate(xs[:-1], axis=int(xs[-1])),
    "SparseToDense": _sparse_to_dense,
}


# ---- ONNX emission ----------------------------------------------------------------------------------------


class _Builder:
    """Collects ONNX nodes and initialisers while walking the TF graph once."""

    def __init__(self, constants: dict[str, np.ndarray]) -> None:
        onnx = _onnx()
        self.helper, self.numpy_helper = onnx.helper, onnx.numpy_helper
        self.known = {f"{name}:0": value for name, value in constants.items()}  # tensor -> folded value
        self.nodes: list = []
        self.initializers: dict[str, object] = {}
        self.inputs: list = []

    def const(self, node: dict, ref: str) -> np.ndarray:
        if ref not in self.known:
            raise TfjsGraphError(f"{node['op']} {node['name']}: input {ref} must be a constant")
        return self.known[ref]

    def initializer(self, name: str, value: np.ndarray) -> str:
        if name not in self.initializers:
            self.initializers[name] = self.numpy_helper.from_array(np.ascontiguousarray(value), name)
        return name

    def value(self, ref: str) -> str:
        """The ONNX name of a tensor, made an initialiser when it is a (folded) constant."""
        return self.initializer(ref, self.known[ref]) if ref in self.known else ref

    def emit(self, op: str, inputs: list[str], outputs: list[str], name: str, **attrs) -> None:
        self.nodes.append(self.helper.make_node(op, inputs, outputs, name=name, **attrs))

    def nhwc(self, node: dict, op: str, inputs: list[str], *, relu6: bool = False, **attrs) -> None:
        """Run an NCHW-only ONNX op on an NHWC tensor: transpose in, op (then a ReLU6), transpose back."""
        name = node["name"]
        self.emit("Transpose", [inputs[0]], [f"{name}/nchw"], f"{name}/to_nchw", perm=list(_TO_NCHW))
        self.emit(op, [f"{name}/nchw", *inputs[1:]], [f"{name}/out_nchw"], name, **attrs)
        result = f"{name}/out_nchw"
        if relu6:  # inside the transposes, so onnxruntime cancels them against the next op's
            self.relu6(result, f"{name}/relu6", f"{name}/relu6")
            result = f"{name}/relu6"
        self.emit("Transpose", [result], [f"{name}:0"], f"{name}/to_nhwc", perm=list(_TO_NHWC))

    def relu6(self, source: str, target: str, name: str) -> None:
        """TF's Relu6 is ONNX's Clip to [0, 6] (bounds as inputs since opset 11)."""
        bounds = [self.initializer(f"relu6/{b}", np.array(b, np.float32)) for b in (0.0, 6.0)]
        self.emit("Clip", [source, *bounds], [target], name)


def _nchw(node: dict) -> bool:
    layout = _attr_str(node, "data_format", "NHWC")
    if layout not in ("NHWC", "NCHW"):
        raise TfjsGraphError(f"{node['op']} {node['name']}: data_format {layout} is not supported")
    return layout == "NCHW"


def _spatial(node: dict, key: str) -> list[int]:
    """A 4-long NHWC/NCHW attribute (strides, ksize, dilations) -> its (h, w) part."""
    values = _attr_ints(node, key) if key in node.get("attr", {}) else [1, 1, 1, 1]
    return values[2:] if _nchw(node) else values[1:3]


def _padding(node: dict, kernel: list[int]) -> dict:
    """TF padding -> ONNX ``pads`` / ``auto_pad`` keywords; ``kernel`` (h, w) with dilation applied."""
    padding = _attr_str(node, "padding")
    if padding == "VALID":
        return {"pads": [0, 0, 0, 0]}
    if padding == "SAME" and _spatial(node, "strides") == [1, 1]:  # size-independent; onnxruntime's
        before = [(k - 1) // 2 for k in kernel]  # SAME_UPPER refuses dilation, TF allows it at stride 1
        return {"pads": [*before, *(k - 1 - b for k, b in zip(kernel, before, strict=True))]}
    if padding == "SAME":
        return {"auto_pad": "SAME_UPPER"}  # TF puts the odd pixel at the bottom/right, as SAME_UPPER does
    if padding == "EXPLICIT":
        pairs = np.array(_attr_ints(node, "explicit_paddings")).reshape(4, 2)
        hw = pairs[2:] if _nchw(node) else pairs[1:3]
        return {"pads": [int(v) for v in (*hw[:, 0], *hw[:, 1])]}
    raise TfjsGraphError(f"{node['op']} {node['name']}: padding {padding} is not supported")


def _conv_weight(b: _Builder, node: dict, ref: str, depthwise: bool) -> tuple[str, tuple[int, int], int]:
    """TF filters -> (ONNX OIHW initialiser, (kh, kw), group). Depthwise (kh, kw, in, mult) is a grouped
    conv with ``in`` groups whose output channel c * mult + m is filter[:, :, c, m], TF's channel order."""
    filters = b.const(node, ref)
    if not depthwise:  # (kh, kw, in, out) HWIO
        return b.initializer(f"{ref}/oihw", filters.transpose(3, 2, 0, 1)), filters.shape[:2], 1
    kh, kw, channels, mult = filters.shape
    grouped = filters.reshape(kh, kw, channels * mult).transpose(2, 0, 1)[:, None]
    return b.initializer(f"{ref}/grouped", grouped), (kh, kw), channels


def _fused_ops(node: dict) -> tuple[bool, bool]:
    """A Grappler-fused conv's ``fused_ops`` -> (bias, relu6); anything else is refused by name."""
    names = _attr_strs(node, "fused_ops")
    if names not in ([], ["BiasAdd"], ["BiasAdd", "Relu6"]):
        raise TfjsGraphError(f"{node['op']} {node['name']}: fused ops {'+'.join(names)} are not supported")
    return bool(names), "Relu6" in names


def _conv(b: _Builder, node: dict, ins: list[str], *, depthwise: bool = False) -> None:
    """Conv2D / DepthwiseConv2dNative, with the fused BiasAdd (+ Relu6) of their ``Fused`` forms."""
    bias, relu6 = _fused_ops(node)
    weight, filter_hw, group = _conv_weight(b, node, ins[1], depthwise)
    dilations = _spatial(node, "dilations")
    kernel = [(k - 1) * d + 1 for k, d in zip(filter_hw, dilations, strict=True)]
    attrs = dict(strides=_spatial(node, "strides"), dilations=dilations, group=group, **_padding(node, kernel))
    inputs = [b.value(ins[0]), weight, *([b.value(ins[2])] if bias else [])]
    if not _nchw(node):
        b.nhwc(node, "Conv", inputs, relu6=relu6, **attrs)
        return
    name = node["name"]
    b.emit("Conv", inputs, [f"{name}/conv" if relu6 else f"{name}:0"], name, **attrs)
    if relu6:
        b.relu6(f"{name}/conv", f"{name}:0", f"{name}/relu6")


def _conv2d(b: _Builder, node: dict, ins: list[str]) -> None:
    _conv(b, node, ins)


def _depthwise(b: _Builder, node: dict, ins: list[str]) -> None:
    _conv(b, node, ins, depthwise=True)


def _relu6(b: _Builder, node: dict, ins: list[str]) -> None:
    b.relu6(b.value(ins[0]), f"{node['name']}:0", node["name"])


def _max_pool(b: _Builder, node: dict, ins: list[str]) -> None:
    kernel = _spatial(node, "ksize")
    attrs = dict(kernel_shape=kernel, strides=_spatial(node, "strides"), **_padding(node, kernel))
    if _nchw(node):
        b.emit("MaxPool", [b.value(ins[0])], [f"{node['name']}:0"], node["name"], **attrs)
    else:
        b.nhwc(node, "MaxPool", [b.value(ins[0])], **attrs)


def _resize_bilinear(b: _Builder, node: dict, ins: list[str]) -> None:
    align, half = _attr_bool(node, "align_corners"), _attr_bool(node, "half_pixel_centers")
    if align and half:
        raise TfjsGraphError(f"ResizeBilinear {node['name']}: align_corners and half_pixel_centers together")
    mode = "align_corners" if align else "half_pixel" if half else "asymmetric"  # TF's legacy default
    name, hw = node["name"], b.const(node, ins[1]).astype(np.int64)
    # full-rank sizes = the input's (N, C) + (h, w): onnxruntime's layout optimiser mishandles Resize's ``axes``
    b.emit("Transpose", [b.value(ins[0])], [f"{name}/nchw"], f"{name}/to_nchw", perm=list(_TO_NCHW))
    b.emit("Shape", [f"{name}/nchw"], [f"{name}/shape"], f"{name}/shape", start=0, end=2)
    b.emit("Concat", [f"{name}/shape", b.initializer(f"{name}/hw", hw)], [f"{name}/sizes"], f"{name}/sizes", axis=0)
    b.emit("Resize", [f"{name}/nchw", "", "", f"{name}/sizes"], [f"{name}/out_nchw"], name, mode="linear",
           coordinate_transformation_mode=mode)  # fmt: skip
    b.emit("Transpose", [f"{name}/out_nchw"], [f"{name}:0"], f"{name}/to_nhwc", perm=list(_TO_NHWC))


def _pad(b: _Builder, node: dict, ins: list[str]) -> None:
    pairs = b.const(node, ins[1]).astype(np.int64)  # (rank, 2) before/after
    pads = b.initializer(f"{node['name']}/pads", np.concatenate([pairs[:, 0], pairs[:, 1]]))
    inputs = [b.value(ins[0]), pads]
    if node["op"] == "PadV2":
        fill = b.const(node, ins[2]).astype(np.float32).reshape(())
        inputs.append(b.initializer(f"{node['name']}/value", fill))
    b.emit("Pad", inputs, [f"{node['name']}:0"], node["name"], mode="constant")


def _split_v(b: _Builder, node: dict, ins: list[str]) -> None:
    sizes = b.const(node, ins[1]).astype(np.int64)
    if (sizes < 0).any():
        raise TfjsGraphError(f"SplitV {node['name']}: an inferred (-1) split size is not supported")
    axis = int(b.const(node, ins[2]))
    outputs = [f"{node['name']}:{i}" for i in range(len(sizes))]
    b.emit("Split", [b.value(ins[0]), b.initializer(f"{node['name']}/sizes", sizes)], outputs, node["name"], axis=axis)


def _simple(onnx_op: str) -> Callable[[_Builder, dict, list[str]], None]:
    def emit(b: _Builder, node: dict, ins: list[str]) -> None:
        b.emit(onnx_op, [b.value(ref) for ref in ins], [f"{node['name']}:0"], node["name"])

    return emit


def _transpose(b: _Builder, node: dict, ins: list[str]) -> None:
    perm = [int(p) for p in b.const(node, ins[1])]
    b.emit("Transpose", [b.value(ins[0])], [f"{node['name']}:0"], node["name"], perm=perm)


def _reshape(b: _Builder, node: dict, ins: list[str]) -> None:
    shape = b.initializer(f"{node['name']}/shape", b.const(node, ins[1]).astype(np.int64))
    # TF's 0 is a zero-sized dimension; ONNX's 0 copies the input's unless allowzero
    b.emit("Reshape", [b.value(ins[0]), shape], [f"{node['name']}:0"], node["name"], allowzero=1)


def _concat(b: _Builder, node: dict, ins: list[str]) -> None:
    axis = int(b.const(node, ins[-1]))
    b.emit("Concat", [b.value(ref) for ref in ins[:-1]], [f"{node['name']}:0"], node["name"], axis=axis)


def _leaky_relu(b: _Builder, node: dict, ins: list[str]) -> None:
    alpha = float(node.get("attr", {}).get("alpha", {}).get("f", 0.2))  # TF's default alpha
    b.emit("LeakyRelu", [b.value(ins[0])], [f"{node['name']}:0"], node["name"], alpha=alpha)


def _placeholder(b: _Builder, node: dict, ins: list[str]) -> None:
    from onnx import TensorProto

    dims = [int(d.get("size", -1)) for d in node.get("attr", {}).get("shape", {}).get("shape", {}).get("dim", [])]
    dtype = node.get("attr", {}).get("dtype", {}).get("type", "DT_FLOAT")
    if dtype != "DT_FLOAT":
        raise TfjsGraphError(f"Placeholder {node['name']}: dtype {dtype} is not supported")
    shape = [d if d >= 0 else None for d in dims]
    b.inputs.append(b.helper.make_tensor_value_info(f"{node['name']}:0", TensorProto.FLOAT, shape))


def _sparse_to_dense_node(b: _Builder, node: dict, ins: list[str]) -> None:
    raise TfjsGraphError(f"SparseToDense {node['name']}: only constant inputs are supported")


EMITTERS: dict[str, Callable[[_Builder, dict, list[str]], None]] = {
    "Placeholder": _placeholder,
    "Conv2D": _conv2d,
    "_FusedConv2D": _conv2d,  # Grappler's Conv2D + BiasAdd (+ Relu6), as the TF.js converter writes it
    "FusedDepthwiseConv2dNative": _depthwise,
    "Relu6": _relu6,
    "MaxPool": _max_pool,
    "ResizeBilinear": _resize_bilinear,
    "Pad": _pad,
    "PadV2": _pad,
    "SplitV": _split_v,
    "Transpose": _transpose,
    "Reshape": _reshape,
    "ConcatV2": _concat,
    "LeakyRelu": _leaky_relu,
    "Add": _simple("Add"),
    "AddV2": _simple("Add"),
    "Sigmoid": _simple("Sigmoid"),
    "Identity": _simple("Identity"),
    "SparseToDense": _sparse_to_dense_node,
}
SUPPORTED_OPS = ("Const", *EMITTERS)


def _translate(builder: _Builder, node: dict) -> None:
    ins = _data_inputs(node)
    if node["op"] == "Const":
        return
    if node["op"] in FOLDERS and ins and all(ref in builder.known for ref in ins):
        builder.known[f"{node['name']}:0"] = np.asarray(FOLDERS[node["op"]](*(builder.known[r] for r in ins)))
        return
    EMITTERS[node["op"]](builder, node, ins)


def _onnx():
    try:
        import onnx
    except ImportError as exc:  # a test/build dependency, not needed to run the built model
        raise TfjsGraphError("converting a TF.js model needs the onnx package (pip install 'onnx<1.23')") from exc
    return onnx


def _with_typed_outputs(onnx, model, names: list[str]):
    """Declare the graph outputs with the types and shapes ONNX shape inference finds for them."""
    try:
        inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    except onnx.shape_inference.InferenceError as exc:
        raise TfjsGraphError(f"the translated graph is not consistent ({exc})") from exc
    types = {info.name: info for info in inferred.graph.value_info}
    missing = [name for name in names if name not in types]
    if missing:
        raise TfjsGraphError(f"no type could be inferred for the outputs {', '.join(missing)}")
    model.graph.output.extend(types[name] for name in names)
    return model


def to_onnx(graph: TfjsGraph):
    """TfjsGraph -> a checked ``onnx.ModelProto`` whose outputs are the graph's, in ``graph.outputs`` order."""
    onnx = _onnx()
    builder = _Builder(graph.constants)
    for node in graph.nodes:
        _translate(builder, node)
    names = []
    for ref in graph.outputs:
        if ref in builder.known:  # an output that folded to a constant
            builder.emit("Identity", [builder.value(ref)], [f"{ref}/out"], f"{ref}/out")
        names.append(f"{ref}/out" if ref in builder.known else ref)
    onnx_graph = builder.helper.make_graph(builder.nodes, "tfjs_graph", builder.inputs, [],
                                           initializer=list(builder.initializers.values()))  # fmt: skip
    model = builder.helper.make_model(
        onnx_graph, opset_imports=[builder.helper.make_opsetid("", OPSET)], producer_name="crowdmocap.tfjs_graph"
    )
    model = _with_typed_outputs(onnx, model, names)
    try:
        onnx.checker.check_model(model)
    except onnx.checker.ValidationError as exc:
        raise TfjsGraphError(f"the translated graph is not valid ONNX ({exc})") from exc
    return model


def convert(model_json: Path, output: Path) -> Path:
    """``model.json`` (+ shards) -> ``output`` (.onnx), written atomically; returns ``output``."""
    onnx = _onnx()
    model = to_onnx(load_tfjs_graph(model_json))
    partial = output.with_name(f".{output.name}.part")
    onnx.save(model, str(partial))
    partial.replace(output)
    return output
