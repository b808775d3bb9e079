"""Property-based damage: whatever happens to a result file's bytes, reading it either works or raises
ResultFormatError. Nothing else may escape (no zipfile, zlib, pickle, KeyError or numpy errors), and the
damage that is known to break the contract (a cut file, foreign bytes, an array of the wrong shape or
kind, a meta field of the wrong type or out of range) is rejected, never read as if it were fine."""

import contextlib
import json
from pathlib import Path

import numpy as np
import pytest
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


def _read_bytes(tmp_path, data: bytes, *, must_fail: bool = False) -> None:
    path = tmp_path / "damaged.npz"
    path.write_bytes(data)
    if must_fail:
        with pytest.raises(ResultFormatError):
            read_result(path)
        return
    with contextlib.suppress(ResultFormatError):
        read_result(path)


@_SETTINGS
@given(data=st.data())
def test_flipped_truncated_and_spliced_bytes(tmp_path, tmp_path_factory, data):
    valid = _valid_bytes(tmp_path_factory)
    damage = data.draw(st.sampled_from(["flip", "truncate", "splice", "random"]))
    must_fail = damage in ("truncate", "random")  # a cut zip has no central directory; foreign bytes are no zip
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
    _read_bytes(tmp_path, blob, must_fail=must_fail)


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
    valid_shape = arrays[f"person/1/{key}"].shape
    arrays[f"person/1/{key}"] = np.zeros(shape, dtype=dtype)
    np.savez(target, **arrays)
    if tuple(shape) != valid_shape or dtype in ("complex64", "U3", "S2"):  # wrong shape or not numbers at all
        with pytest.raises(ResultFormatError, match="person 1"):  # frames sets T, so another array may be named
            read_result(target)
        return
    with contextlib.suppress(ResultFormatError):
        read_result(target)


def _with_meta(tmp_path, change) -> Path:
    target = write_result(tmp_path / "r.npz", make_capture(people=2, frames=5))
    with np.load(target) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    change(meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(target, **arrays)
    return target


KNOWN_BAD_META = {
    "no video": lambda m: m.pop("video"),
    "fps zero": lambda m: m["video"].update(fps=0),
    "fps negative": lambda m: m["video"].update(fps=-29.97),
    "fps a string": lambda m: m["video"].update(fps="30"),
    "width missing": lambda m: m["video"].pop("width"),
    "focal zero": lambda m: m["camera"].update(focal_px=0.0),
    "focal null": lambda m: m["camera"].update(focal_px=None),
    "principal point short": lambda m: m["camera"].update(principal_point=[384.0]),
    "major version 2": lambda m: m.update(version="2.0"),
    "another format": lambda m: m.update(format="someone.else"),
    "joint names renamed": lambda m: m["body_model"]["joint_names"].__setitem__(0, "hips"),
    "unknown body kind": lambda m: m["body_model"].update(kind="mystery"),
    "ground normal not unit": lambda m: m["ground"].update(normal=[0.0, -2.0, 0.0]),
    "a person only in meta": lambda m: m["people"].append({"id": 99, "first_frame": 0, "last_frame": 0,
                                                           "num_frames": 1}),
    "a person's id changed": lambda m: m["people"][0].update(id=2),
    "frame count wrong": lambda m: m["people"][0].update(num_frames=7),
}  # fmt: skip


@pytest.mark.parametrize("change", KNOWN_BAD_META.values(), ids=KNOWN_BAD_META.keys())
def test_known_bad_meta_is_rejected(tmp_path, change):
    with pytest.raises(ResultFormatError):
        read_result(_with_meta(tmp_path, change))
