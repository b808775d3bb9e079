"""Property-based damage: whatever happens to a result file's bytes, reading it either works or raises
ResultFormatError. Nothing else may escape (no zipfile, zlib, pickle, KeyError or numpy errors)."""

import contextlib
import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.core.result.schema import ResultFormatError
from crowdmocap_addon.core.result.writer import write_result
from tests.helpers.captures import make_capture

_SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _valid_bytes(tmp_path_factory) -> bytes:
    path = tmp_path_factory.mktemp("valid") / "r.npz"
    return write_result(path, make_capture(people=2, frames=5)).read_bytes()


def _read_bytes(tmp_path, data: bytes) -> None:
    path = tmp_path / "damaged.npz"
    path.write_bytes(data)
    with contextlib.suppress(ResultFormatError):
        read_result(path)


@_SETTINGS
@given(data=st.data())
def test_flipped_truncated_and_spliced_bytes(tmp_path, tmp_path_factory, data):
    valid = _valid_bytes(tmp_path_factory)
    damage = data.draw(st.sampled_from(["flip", "truncate", "splice", "random"]))
    if damage == "flip":
        positions = data.draw(st.lists(st.integers(0, len(valid) - 1), min_size=1, max_size=8))
        damaged = bytearray(valid)
        for pos in positions:
            damaged[pos] ^= data.draw(st.integers(1, 255))
        blob = bytes(damaged)
    elif damage == "truncate":
        blob = valid[: data.draw(st.integers(0, len(valid) - 1))]
    elif damage == "splice":
        start = data.draw(st.integers(0, len(valid)))
        blob = valid[:start] + data.draw(st.binary(max_size=64)) + valid[start:]
    else:
        blob = data.draw(st.binary(max_size=2048))
    _read_bytes(tmp_path, blob)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


@_SETTINGS
@given(
    path=st.lists(
        st.sampled_from(
            [
                "video",
                "camera",
                "people",
                "ground",
                "body_model",
                "pipeline",
                0,
                "fps",
                "focal_px",
                "id",
                "normal",
                "version",
                "joint_names",
            ]
        ),
        min_size=1,
        max_size=3,
    ),
    value=_JSON,
)
def test_meta_with_any_field_replaced(tmp_path, tmp_path_factory, path, value):
    capture = make_capture(people=2, frames=5)
    target = write_result(tmp_path / "r.npz", capture)
    with np.load(target) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    node = meta
    for key in path[:-1]:
        if (isinstance(node, dict) and key in node) or (
            isinstance(node, list) and isinstance(key, int) and key < len(node)
        ):
            node = node[key]
    last = path[-1]
    if isinstance(node, dict):
        node[str(last)] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        node[last] = value
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(target, **arrays)
    with contextlib.suppress(ResultFormatError):
        read_result(target)


@_SETTINGS
@given(
    key=st.sampled_from(
        [
            "frames",
            "global_orient",
            "body_pose",
            "betas",
            "transl",
            "rest_joints",
            "keypoints2d",
            "bbox",
            "confidence",
            "foot_contact",
        ]
    ),
    shape=st.lists(st.integers(0, 6), max_size=3),
    dtype=st.sampled_from(["float32", "float64", "int32", "uint8", "bool", "complex64", "U3", "S2"]),
)
def test_person_arrays_of_any_shape_and_dtype(tmp_path, key, shape, dtype):
    target = write_result(tmp_path / "r.npz", make_capture(people=1, frames=5))
    with np.load(target) as archive:
        arrays = {k: archive[k] for k in archive.files}
    arrays[f"person/1/{key}"] = np.zeros(shape, dtype=dtype)
    np.savez(target, **arrays)
    with contextlib.suppress(ResultFormatError):
        read_result(target)
