"""Write a CrowdMocap result file: the only place any result ``.npz`` is produced.

The format is specified in docs/result-format.md and checked by ``crowdmocap_addon.core.result.schema``;
the add-on's ``reader`` is its one counterpart.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from .schema import (
    CAMERA_FIELDS,
    CAMERA_PREFIX,
    FORMAT_NAME,
    META_KEY,
    OPTIONAL_PERSON_FIELDS,
    PERSON_FIELDS,
    CameraMotion,
    CapturedPerson,
    CaptureResult,
    ResultFormatError,
    person_key,
    validate_capture,
)

FLOAT_DTYPE = np.float32
FRAME_DTYPE = np.int64
QUALITY_DTYPE = np.uint8


def _stored(track: CapturedPerson) -> CapturedPerson:
    """The track with the dtypes the file stores (float32 arrays, int64 frames)."""
    converted: dict[str, Any] = {}
    for name in PERSON_FIELDS:
        value = np.asarray(getattr(track, name))
        if name == "frames":
            if value.dtype.kind not in "iu":
                raise ResultFormatError(f"person {track.id}: 'frames' must hold integers, got {value.dtype}")
            converted[name] = np.ascontiguousarray(value, dtype=FRAME_DTYPE)
        else:
            with np.errstate(over="ignore"):  # overflow to inf is reported by validation below
                converted[name] = np.ascontiguousarray(value, dtype=FLOAT_DTYPE)
    converted["quality"] = np.ascontiguousarray(track.frame_quality, dtype=QUALITY_DTYPE)  # always written (1.1)
    return replace(track, id=int(track.id), **converted)


def _stored_camera(motion: CameraMotion) -> CameraMotion:
    """The camera path with the dtypes the file stores (float32, int64 frames, uint8 measured)."""
    frames, measured = np.asarray(motion.frames), np.asarray(motion.measured)
    if frames.dtype.kind not in "iu":
        raise ResultFormatError(f"camera: 'frames' must hold integers, got {frames.dtype}")
    if measured.dtype.kind not in "iub" or np.any((measured != 0) & (measured != 1)):  # before uint8 wraps 256 to 0
        raise ResultFormatError("camera: 'measured' must hold 0 (bridged) or 1 (measured) integers")
    with np.errstate(over="ignore"):
        floats = {name: np.ascontiguousarray(getattr(motion, name), dtype=FLOAT_DTYPE)
                  for name in ("rotation", "centre", "focal_px")}  # fmt: skip
    return CameraMotion(frames=np.ascontiguousarray(frames, dtype=FRAME_DTYPE),
                        measured=np.ascontiguousarray(measured, dtype=QUALITY_DTYPE), **floats)  # fmt: skip


def meta_dict(result: CaptureResult) -> dict[str, Any]:
    """The ``meta`` JSON object of a result (see docs/result-format.md)."""
    video, camera, body, pipeline = result.video, result.camera, result.body_model, result.pipeline
    return {
        "format": FORMAT_NAME,
        "version": f"{result.version[0]}.{result.version[1]}",
        "video": {
            "path": video.path, "width": int(video.width), "height": int(video.height), "fps": float(video.fps),
            "fps_rational": [int(video.fps_rational[0]), int(video.fps_rational[1])],
            "frame_count": int(video.frame_count), "first_frame": int(video.first_frame),
        },
        "camera": {
            "model": "pinhole", "focal_px": float(camera.focal_px),
            "principal_point": [float(v) for v in camera.principal_point],
            **({} if result.camera_motion is None else {"motion": {"num_frames": result.camera_motion.num_frames}}),
        },
        "body_model": {"kind": body.kind, "gender": body.gender, "joint_names": list(body.joint_names)},
        "pipeline": {
            "pose_backend": pipeline.pose_backend, "estimator": pipeline.estimator,
            "versions": dict(pipeline.versions), "options": dict(pipeline.options),
        },
        "ground": None if result.ground is None else {
            "normal": [float(v) for v in result.ground.normal], "offset": float(result.ground.offset),
        },
        "people": [
            {"id": t.id, "first_frame": int(t.frames[0]), "last_frame": int(t.frames[-1]),
             "num_frames": t.num_frames}
            for t in result.people
        ],
    }  # fmt: skip


def write_result(path: str | Path, result: CaptureResult) -> Path:
    """Validate and write ``result`` to ``path`` atomically (a failed write leaves no partial file)."""
    motion = None if result.camera_motion is None else _stored_camera(result.camera_motion)
    stored = replace(result, people=[_stored(track) for track in result.people], camera_motion=motion)
    validate_capture(stored)
    try:
        meta_json = json.dumps(meta_dict(stored), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise ResultFormatError(f"meta cannot be written as JSON: {exc}") from exc
    arrays: dict[str, np.ndarray] = {META_KEY: np.array(meta_json)}
    for track in stored.people:
        for name in (*PERSON_FIELDS, *OPTIONAL_PERSON_FIELDS):
            arrays[person_key(track.id, name)] = getattr(track, name)
    if motion is not None:
        arrays.update({f"{CAMERA_PREFIX}{name}": getattr(motion, name) for name in CAMERA_FIELDS})
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            np.savez_compressed(stream, **arrays)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(temp_name, 0o666 & ~mask)  # mkstemp makes it private: give it the mode any new file gets
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
    return target
