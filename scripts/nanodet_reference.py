"""Record TensorFlow's own outputs of the NanoDet-g TF.js graph: the fixture the ONNX translation is held to.

Needs TensorFlow, which is NOT a CrowdMocap dependency: this script is never run by the tests or CI. It
was run once, in a scratch environment::

    python3.11 -m venv /tmp/tfref
    /tmp/tfref/bin/pip install tensorflow-cpu "av==18.1.0" "opencv-python-headless==4.11.0.86"
    /tmp/tfref/bin/python scripts/nanodet_reference.py ~/.local/share/crowdmocap/models/nanodet-g

It rebuilds the GraphDef from ``modelTopology`` with TensorFlow's protobuf parser, fills every Const
from ``nanodet.bin`` (read here independently of ``tfjs_graph``: float16 dequantised, int32 cast to the
dtype the node declares), imports it with ``tf.compat.v1`` and runs it on one fixed input: frame 0 of
``tests/data/vtest_first10s.avi`` through ``nanodet.stretched`` (the input's recipe and its checksum
are stored, not the image). It writes ``tests/data/nanodet_g_reference.npz``: the person score of every
cell, and the 44 box-distribution logits of a documented subset of cells (every 7th cell plus the 100
best-scoring ones).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
FRAME_INDEX = 0
EVERY = 7
TOP = 100
RECIPE = (
    f"frame {FRAME_INDEX} of tests/data/vtest_first10s.avi read by inference_server.footage.open_footage (RGB), "
    "then inference_server.poses2d.nanodet.stretched (named preprocess when recorded): "
    "cv2.resize to 416x416 INTER_LINEAR, BGR, "
    "(x - (103.53, 116.28, 123.675)) / (57.375, 57.12, 58.395), NCHW float32"
)


def reference_input() -> np.ndarray:
    """(1, 3, 416, 416) float32: the fixed input, built by the project's own reader and pre-processing."""
    sys.path.insert(0, str(REPO))
    from inference_server.footage.reader import open_footage
    from inference_server.poses2d.nanodet import stretched

    frames = open_footage(REPO / "tests" / "data" / "vtest_first10s.avi").frames()
    for index, frame in enumerate(frames):
        if index == FRAME_INDEX:
            return stretched(frame.image)[0]
    raise SystemExit(f"the clip has no frame {FRAME_INDEX}")


def read_constants(model: dict, folder: Path) -> dict[str, np.ndarray]:
    """Every weight of the manifest, float16-quantised ones dequantised to float32."""
    values: dict[str, np.ndarray] = {}
    for group in model["weightsManifest"]:
        data = b"".join((folder / path).read_bytes() for path in group["paths"])
        offset = 0
        for entry in group["weights"]:
            stored = np.dtype(entry.get("quantization", {}).get("dtype", entry["dtype"]))
            count = int(np.prod(entry["shape"], dtype=np.int64))
            array = np.frombuffer(data, dtype=stored, count=count, offset=offset).reshape(entry["shape"])
            values[entry["name"]] = array.astype(np.dtype(entry["dtype"]))
            offset += count * stored.itemsize
    return values


def graph_def(model: dict, constants: dict[str, np.ndarray]):
    """The GraphDef of ``modelTopology`` with each Const's value filled in."""
    import tensorflow as tf
    from google.protobuf import json_format

    graph = json_format.ParseDict(model["modelTopology"], tf.compat.v1.GraphDef(), ignore_unknown_fields=True)
    for node in graph.node:
        if node.op == "Const":
            dtype = tf.dtypes.as_dtype(node.attr["dtype"].type)
            value = constants[node.name].astype(dtype.as_numpy_dtype)
            node.attr["value"].tensor.CopyFrom(tf.make_tensor_proto(value, dtype=dtype, shape=value.shape))
    return graph


def run_tensorflow(folder: Path, blob: np.ndarray) -> dict[str, np.ndarray]:
    """Output tensor name -> TF's value on ``blob``."""
    import tensorflow as tf

    model = json.loads((folder / "nanodet.json").read_text())
    graph = graph_def(model, read_constants(model, folder))
    outputs = sorted(model["signature"]["outputs"])
    with tf.Graph().as_default() as tf_graph:
        tf.compat.v1.import_graph_def(graph, name="")
        with tf.compat.v1.Session(graph=tf_graph) as session:
            values = session.run(outputs, {"input_1:0": blob})
    return dict(zip(outputs, values, strict=True))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("folder", type=Path, help="the fetched nanodet-g folder (nanodet.json + nanodet.bin)")
    parser.add_argument("--out", type=Path, default=REPO / "tests" / "data" / "nanodet_g_reference.npz")
    args = parser.parse_args()
    blob = reference_input()
    values = run_tensorflow(args.folder, blob)
    by_shape = {value.shape[1:]: value[0] for value in values.values()}
    scores = np.concatenate([by_shape[((52 // 2**i) ** 2, 80)] for i in range(3)])  # strides 8, 16, 32
    distributions = np.concatenate([by_shape[((52 // 2**i) ** 2, 44)] for i in range(3)])
    cells = np.union1d(np.arange(0, len(scores), EVERY), np.argsort(-scores[:, 0])[:TOP])
    np.savez_compressed(
        args.out,
        person_scores=scores[:, 0].astype(np.float32),
        cells=cells.astype(np.int32),
        distributions=distributions[cells].astype(np.float32),
        input_sha256=np.array(hashlib.sha256(blob.tobytes()).hexdigest()),
        recipe=np.array(RECIPE),
        tensorflow=np.array(__import__("tensorflow").__version__),
    )
    print(f"wrote {args.out}: {len(scores)} cells, distributions of {len(cells)}, best person {scores[:, 0].max():.3f}")


if __name__ == "__main__":
    main()
