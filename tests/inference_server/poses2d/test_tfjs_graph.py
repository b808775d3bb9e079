"""The TF.js -> ONNX translator on tiny hand-written graphs, one op at a time, against NumPy references."""

import base64
import json

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view

from inference_server.poses2d.tfjs_graph import TfjsGraphError, convert, load_tfjs_graph, read_weights

ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
RNG = np.random.default_rng(7)


# ---- writing tiny TF.js graph models --------------------------------------------------------------------


def const(name, value, dtype="DT_FLOAT"):
    return {"name": name, "op": "Const", "attr": {"dtype": {"type": dtype}, "value": {"tensor": {"dtype": dtype}}}}


def node(name, op, *inputs, **attrs):
    def encode(value):
        if isinstance(value, tuple):  # list(string), e.g. fused_ops
            return {"list": {"s": [base64.b64encode(v.encode()).decode() for v in value]}}
        if isinstance(value, bool):
            return {"b": value}
        if isinstance(value, float):
            return {"f": value}
        if isinstance(value, str):
            return {"s": base64.b64encode(value.encode()).decode()}
        return {"list": {"i": [str(v) for v in value]}}

    return {"name": name, "op": op, "input": list(inputs), "attr": {k: encode(v) for k, v in attrs.items()}}


def placeholder(name, shape):
    shape = {"shape": {"dim": [{"size": str(d)} for d in shape]}}
    return {"name": name, "op": "Placeholder", "attr": {"dtype": {"type": "DT_FLOAT"}, "shape": shape}}


def write_model(folder, nodes, weights, outputs):
    """model.json + weights.bin; float32 weights quantised to float16 as the TF.js converter does."""
    entries, chunks = [], []
    for name, value in weights.items():
        if value.dtype == np.float32:
            entries.append({"name": name, "shape": list(value.shape), "dtype": "float32",
                            "quantization": {"dtype": "float16", "original_dtype": "float32"}})  # fmt: skip
            chunks.append(value.astype(np.float16).tobytes())
        else:  # TF.js keeps int64 as int32
            entries.append({"name": name, "shape": list(value.shape), "dtype": "int32"})
            chunks.append(value.astype(np.int32).tobytes())
    (folder / "weights.bin").write_bytes(b"".join(chunks))
    model = {
        "format": "graph-model",
        "modelTopology": {"node": nodes},
        "signature": {"outputs": {name: {"name": name} for name in outputs}},
        "weightsManifest": [{"paths": ["weights.bin"], "weights": entries}],
    }
    (folder / "model.json").write_text(json.dumps(model))
    return folder / "model.json"


def run(tmp_path, nodes, weights, feeds, outputs):
    """Translate, run with onnxruntime; returns the outputs in ``outputs`` order."""
    nodes = [*nodes, *(const(n, v, "DT_INT64" if v.dtype == np.int64 else "DT_FLOAT" if v.dtype == np.float32
                                else "DT_INT32") for n, v in weights.items())]  # fmt: skip
    model = convert(write_model(tmp_path, nodes, weights, outputs), tmp_path / "model.onnx")
    session = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    assert [o.name for o in session.get_outputs()] == sorted(outputs)
    values = dict(zip(sorted(outputs), session.run(None, {f"{k}:0": v for k, v in feeds.items()}), strict=True))
    return [values[name] for name in outputs]


def f16(x):
    return x.astype(np.float16).astype(np.float32)


# ---- NumPy references -----------------------------------------------------------------------------------


def same_pads(size, kernel, stride):
    total = max((-(-size // stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


def conv_nhwc(x, w, stride, padding, dilation=1):
    kh, kw = (w.shape[0] - 1) * dilation + 1, (w.shape[1] - 1) * dilation + 1
    if padding == "SAME":
        x = np.pad(x, [(0, 0), same_pads(x.shape[1], kh, stride), same_pads(x.shape[2], kw, stride), (0, 0)])
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride, :, ::dilation, ::dilation]
    return np.einsum("nhwcij,ijco->nhwo", windows, w)


def depthwise_nhwc(x, w, stride, padding):
    """TF DepthwiseConv2dNative: output channel c * mult + m is input channel c through filter[:, :, c, m]."""
    kh, kw, channels, mult = w.shape
    if padding == "SAME":
        x = np.pad(x, [(0, 0), same_pads(x.shape[1], kh, stride), same_pads(x.shape[2], kw, stride), (0, 0)])
    windows = sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]  # (n, h, w, c, kh, kw)
    out = np.einsum("nhwcij,ijcm->nhwcm", windows, w)
    return out.reshape(*out.shape[:3], channels * mult)


def relu6(x):
    return np.clip(x, 0.0, 6.0)


def resize_tf(x, out_h, out_w, align, half):
    """TF's ResizeBilinear on NHWC, written out from its definition."""

    def axis(out, size):
        o = np.arange(out, dtype=np.float64)
        if align:
            src = o * ((size - 1) / (out - 1) if out > 1 else 0.0)
        elif half:
            src = (o + 0.5) * size / out - 0.5
        else:
            src = o * size / out
        lower = np.maximum(np.floor(src), 0).astype(int)
        upper = np.minimum(np.ceil(src), size - 1).astype(int)
        return lower, upper, src - np.floor(src)

    (y0, y1, fy), (x0, x1, fx) = axis(out_h, x.shape[1]), axis(out_w, x.shape[2])
    top = x[:, y0][:, :, x0] + (x[:, y0][:, :, x1] - x[:, y0][:, :, x0]) * fx[None, None, :, None]
    bottom = x[:, y1][:, :, x0] + (x[:, y1][:, :, x1] - x[:, y1][:, :, x0]) * fx[None, None, :, None]
    return top + (bottom - top) * fy[None, :, None, None]


# ---- one op at a time -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("padding", "stride", "dilation"), [("VALID", 2, 1), ("SAME", 2, 1), ("SAME", 1, 2)])
def test_conv2d_nhwc_and_bias_add(tmp_path, padding, stride, dilation):
    x = RNG.normal(size=(1, 9, 8, 3)).astype(np.float32)
    w, bias = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32), RNG.normal(size=(4,)).astype(np.float32)
    nodes = [placeholder("x", x.shape),
             node("conv", "Conv2D", "x", "w", strides=[1, stride, stride, 1], padding=padding, data_format="NHWC",
                  dilations=[1, dilation, dilation, 1]),
             node("out", "Add", "conv", "b")]  # fmt: skip
    (got,) = run(tmp_path, nodes, {"w": w, "b": bias}, {"x": x}, ["out:0"])
    np.testing.assert_allclose(got, conv_nhwc(x, f16(w), stride, padding, dilation) + f16(bias), atol=1e-4)


@pytest.mark.parametrize("fused", [("BiasAdd",), ("BiasAdd", "Relu6")])
@pytest.mark.parametrize(("padding", "stride"), [("VALID", 2), ("SAME", 1), ("SAME", 2)])
def test_fused_conv2d_adds_bias_then_relu6(tmp_path, fused, padding, stride):
    x = RNG.normal(size=(1, 9, 8, 3)).astype(np.float32) * 3
    w, bias = RNG.normal(size=(3, 3, 3, 4)).astype(np.float32), RNG.normal(size=(4,)).astype(np.float32)
    nodes = [placeholder("x", x.shape),
             node("conv", "_FusedConv2D", "x", "w", "b", strides=[1, stride, stride, 1], padding=padding,
                  data_format="NHWC", dilations=[1, 1, 1, 1], fused_ops=fused, num_args=[1])]  # fmt: skip
    (got,) = run(tmp_path, nodes, {"w": w, "b": bias}, {"x": x}, ["conv:0"])
    want = conv_nhwc(x, f16(w), stride, padding) + f16(bias)
    np.testing.assert_allclose(got, relu6(want) if "Relu6" in fused else want, atol=1e-4)


@pytest.mark.parametrize(("padding", "stride", "mult"), [("SAME", 1, 1), ("SAME", 2, 1), ("VALID", 2, 2)])
def test_fused_depthwise_conv_keeps_tf_channel_order(tmp_path, padding, stride, mult):
    x = RNG.normal(size=(1, 8, 7, 3)).astype(np.float32) * 3
    w = RNG.normal(size=(3, 3, 3, mult)).astype(np.float32)
    bias = RNG.normal(size=(3 * mult,)).astype(np.float32)
    nodes = [placeholder("x", x.shape),
             node("dw", "FusedDepthwiseConv2dNative", "x", "w", "b", strides=[1, stride, stride, 1], padding=padding,
                  data_format="NHWC", dilations=[1, 1, 1, 1], fused_ops=("BiasAdd", "Relu6"))]  # fmt: skip
    (got,) = run(tmp_path, nodes, {"w": w, "b": bias}, {"x": x}, ["dw:0"])
    np.testing.assert_allclose(got, relu6(depthwise_nhwc(x, f16(w), stride, padding) + f16(bias)), atol=1e-4)


def test_relu6_clips_to_zero_and_six(tmp_path):
    x = np.array([[-2.0, 0.0, 3.5, 6.0, 9.0]], np.float32)
    nodes = [placeholder("x", x.shape), node("r", "Relu6", "x"), node("s", "AddV2", "r", "r")]
    got_r, got_s = run(tmp_path, nodes, {}, {"x": x}, ["r:0", "s:0"])
    np.testing.assert_array_equal(got_r, [[0, 0, 3.5, 6, 6]])
    np.testing.assert_array_equal(got_s, 2 * relu6(x))


def test_unknown_fused_ops_are_refused_by_name(tmp_path):
    x = np.zeros((1, 4, 4, 2), np.float32)
    w, bias = np.ones((1, 1, 2, 2), np.float32), np.zeros(2, np.float32)
    nodes = [placeholder("x", x.shape),
             node("conv", "_FusedConv2D", "x", "w", "b", strides=[1, 1, 1, 1], padding="VALID",
                  fused_ops=("BiasAdd", "Elu"), num_args=[1])]  # fmt: skip
    with pytest.raises(TfjsGraphError, match="_FusedConv2D conv: fused ops BiasAdd\\+Elu are not supported"):
        run(tmp_path, nodes, {"w": w, "b": bias}, {"x": x}, ["conv:0"])


def test_signature_outputs_keyed_by_alias_use_their_tensor_names(tmp_path):
    """BlazePose's signature keys outputs by alias ('ld_3d') with the tensor in ``name``."""
    x = np.ones((1, 3), np.float32)
    nodes = [placeholder("x", x.shape), node("Identity", "Identity", "x"), node("Identity_1", "Sigmoid", "x")]
    path = write_model(tmp_path, nodes, {}, [])
    model = json.loads(path.read_text())
    model["signature"]["outputs"] = {"z_alias": {"name": "Identity:0"}, "a_alias": {"name": "Identity_1:0"}}
    path.write_text(json.dumps(model))
    assert load_tfjs_graph(path).outputs == ("Identity_1:0", "Identity:0")  # in the order of the sorted keys


def test_explicit_padding_and_nchw_conv(tmp_path):
    x = RNG.normal(size=(1, 2, 6, 5)).astype(np.float32)
    w = RNG.normal(size=(2, 2, 2, 3)).astype(np.float32)
    nodes = [placeholder("x", x.shape),
             node("conv", "Conv2D", "x", "w", strides=[1, 1, 1, 1], padding="EXPLICIT", data_format="NCHW",
                  explicit_paddings=[0, 0, 0, 0, 1, 0, 0, 2])]  # fmt: skip
    (got,) = run(tmp_path, nodes, {"w": w}, {"x": x}, ["conv:0"])
    padded = np.pad(x.transpose(0, 2, 3, 1), [(0, 0), (1, 0), (0, 2), (0, 0)])
    np.testing.assert_allclose(got, conv_nhwc(padded, f16(w), 1, "VALID").transpose(0, 3, 1, 2), atol=1e-4)


def test_pad_padv2_max_pool_leaky_relu_transpose(tmp_path):
    x = RNG.normal(size=(1, 3, 7, 7)).astype(np.float32)
    pads = np.array([[0, 0], [0, 0], [1, 1], [1, 1]], np.int32)
    nodes = [placeholder("x", x.shape),
             node("pad", "Pad", "x", "pads"),
             node("nhwc", "Transpose", "pad", "perm"),
             node("act", "LeakyRelu", "nhwc", alpha=0.1),
             node("pad2", "PadV2", "act", "pads2", "fill"),
             node("pool", "MaxPool", "pad2", ksize=[1, 3, 3, 1], strides=[1, 2, 2, 1], padding="VALID")]  # fmt: skip
    pads2 = np.array([[0, 0], [1, 0], [0, 1], [0, 0]], np.int32)
    perm, fill = np.array([0, 2, 3, 1], np.int32), np.array(-3.0, np.float32)
    weights = {"pads": pads, "perm": perm, "pads2": pads2, "fill": fill}
    got_act, got_pool = run(tmp_path, nodes, weights, {"x": x}, ["act:0", "pool:0"])
    act = np.pad(x, pads).transpose(0, 2, 3, 1)
    act = np.where(act > 0, act, np.float32(0.1) * act)
    padded = np.pad(act, [(0, 0), (1, 0), (0, 1), (0, 0)], constant_values=-3.0)
    pool = sliding_window_view(padded, (3, 3), axis=(1, 2))[:, ::2, ::2].max(axis=(-2, -1))
    np.testing.assert_allclose(got_act, act, atol=1e-6)
    np.testing.assert_allclose(got_pool, pool, atol=1e-6)


@pytest.mark.parametrize(("align", "half"), [(False, True), (True, False), (False, False)])
@pytest.mark.parametrize("size", [(10, 6), (3, 2)])
def test_resize_bilinear_follows_tf_coordinates(tmp_path, align, half, size):
    x = RNG.normal(size=(1, 5, 4, 2)).astype(np.float32)
    nodes = [placeholder("x", x.shape),
             node("resize", "ResizeBilinear", "x", "size", align_corners=align, half_pixel_centers=half)]  # fmt: skip
    (got,) = run(tmp_path, nodes, {"size": np.array(size, np.int32)}, {"x": x}, ["resize:0"])
    np.testing.assert_allclose(got, resize_tf(x.astype(np.float64), *size, align, half), atol=1e-5)


def test_concat_split_sigmoid_identity(tmp_path):
    a, b = RNG.normal(size=(1, 4, 3)).astype(np.float32), RNG.normal(size=(1, 4, 2)).astype(np.float32)
    nodes = [placeholder("a", a.shape), placeholder("b", b.shape),
             node("cat", "ConcatV2", "a", "b", "axis"),
             node("split", "SplitV", "cat", "sizes", "dim"),
             node("sig", "Sigmoid", "split"),
             node("Identity", "Identity", "sig"), node("Identity_1", "Identity", "split:1")]  # fmt: skip
    weights = {"axis": np.array(-1, np.int32), "sizes": np.array([1, 4], np.int32), "dim": np.array(2, np.int32)}
    first, second = run(tmp_path, nodes, weights, {"a": a, "b": b}, ["Identity:0", "Identity_1:0"])
    cat = np.concatenate([a, b], axis=-1)
    np.testing.assert_allclose(first, 1 / (1 + np.exp(-cat[..., :1])), atol=1e-6)
    np.testing.assert_allclose(second, cat[..., 1:], atol=0)


def test_reshape_through_a_folded_sparse_to_dense_shape(tmp_path):
    """onnx-tf's pattern: shape = base + SparseToDense(no indices) -> a constant Reshape target."""
    x = RNG.normal(size=(1, 6, 2, 2)).astype(np.float32)
    nodes = [placeholder("x", x.shape),
             node("dense", "SparseToDense", "where", "out_shape", "gathered", "zero"),
             node("shape", "AddV2", "base", "dense"),
             node("reshaped", "Reshape", "x", "shape"),
             node("sum", "AddV2", "reshaped", "reshaped")]  # fmt: skip
    weights = {"where": np.zeros((0, 1), np.int64), "out_shape": np.array([3], np.int64),
               "gathered": np.zeros((0,), np.int64), "zero": np.array(0, np.int64),
               "base": np.array([1, 6, 4], np.int64)}  # fmt: skip
    (got,) = run(tmp_path, nodes, weights, {"x": x}, ["sum:0"])
    np.testing.assert_allclose(got, 2 * x.reshape(1, 6, 4), atol=0)


def test_sparse_to_dense_places_values(tmp_path):
    """SparseToDense with indices folds to the dense array it describes (used here as an Add operand)."""
    x = np.zeros((2, 3), np.float32)
    nodes = [placeholder("x", x.shape),
             node("dense", "SparseToDense", "idx", "shape", "vals", "dflt"),
             node("out", "Add", "x", "dense")]  # fmt: skip
    weights = {"idx": np.array([[0, 1], [1, 2]], np.int32), "shape": np.array([2, 3], np.int32),
               "vals": np.array([5.0, 7.0], np.float32), "dflt": np.array(-1.0, np.float32)}  # fmt: skip
    (got,) = run(tmp_path, nodes, weights, {"x": x}, ["out:0"])
    np.testing.assert_array_equal(got, [[-1, 5, -1], [-1, -1, 7]])


def test_weights_are_dequantised_and_int64_restored(tmp_path):
    value = np.array([0.1, 1 / 3, 1000.7], np.float32)
    path = write_model(tmp_path, [const("w", value), const("i", None, "DT_INT64")],
                       {"w": value, "i": np.array([2, -1], np.int64)}, [])  # fmt: skip
    weights = read_weights(json.loads(path.read_text())["weightsManifest"], tmp_path)
    np.testing.assert_array_equal(weights["w"], f16(value))
    assert weights["w"].dtype == np.float32
    graph = load_tfjs_graph(path)
    assert graph.constants["i"].dtype == np.int64 and graph.constants["i"].tolist() == [2, -1]


def test_unsupported_ops_and_inputs_are_refused_by_name(tmp_path):
    nodes = [placeholder("x", (1, 2)), node("r", "Softplus", "x"), node("m", "MatMul", "r", "r")]
    with pytest.raises(TfjsGraphError, match="unsupported TF ops MatMul, Softplus"):
        load_tfjs_graph(write_model(tmp_path, nodes, {}, ["m:0"]))
    nodes = [placeholder("x", (3,)), node("d", "SparseToDense", "x", "s", "v", "z")]
    weights = {"s": np.array([3], np.int32), "v": np.array(1.0, np.float32), "z": np.array(0.0, np.float32)}
    with pytest.raises(TfjsGraphError, match="SparseToDense d: only constant inputs"):
        run(tmp_path, nodes, weights, {"x": np.zeros(3, np.float32)}, ["d:0"])


def test_a_truncated_weight_file_is_refused(tmp_path):
    value = np.ones((4, 4), np.float32)
    path = write_model(tmp_path, [const("w", value)], {"w": value}, [])
    (tmp_path / "weights.bin").write_bytes(b"\0" * 10)
    with pytest.raises(TfjsGraphError, match="weight w: the weight files end before its 32 bytes"):
        load_tfjs_graph(path)
