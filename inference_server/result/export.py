"""Export a result to formats other tools read: JSON (same content) and AMASS-style ``.npz`` per person."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from crowdmocap_addon.core.body.skeleton import change_frame
from crowdmocap_addon.core.result.schema import (
    CAMERA_FIELDS,
    PERSON_FIELDS,
    CapturedPerson,
    CaptureResult,
    ResultFormatError,
)
from crowdmocap_addon.core.result.writer import meta_dict
from crowdmocap_addon.core.world import world_transform


def result_to_json_dict(result: CaptureResult) -> dict[str, Any]:
    """The result as one JSON object: ``meta`` as in the file, ``people`` with every array as lists, and
    ``camera`` (each ``camera/`` array as a list) when the camera moved."""
    motion = result.camera_motion
    return {
        "meta": meta_dict(result),
        "people": [
            {"id": track.id, **{name: np.asarray(getattr(track, name)).tolist() for name in PERSON_FIELDS}}
            for track in result.people
        ],
        **({} if motion is None else {"camera": {n: np.asarray(getattr(motion, n)).tolist() for n in CAMERA_FIELDS}}),
    }


def export_json(result: CaptureResult, out_path: str | Path) -> Path:
    out = Path(out_path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result_to_json_dict(result), allow_nan=False))
    return out


def _frame_step(track: CapturedPerson) -> int:
    steps = np.unique(np.diff(track.frames))
    if steps.size > 1:
        raise ResultFormatError(f"person {track.id}: frames are not evenly spaced; AMASS needs a fixed rate")
    return int(steps[0]) if steps.size else 1


def export_amass(result: CaptureResult, out_dir: str | Path) -> list[Path]:
    """One AMASS-style ``person_<id>.npz`` per person, in a Z-up world, for the SMPL add-on and AMASS tools.

    Keys: ``poses`` (T, 72) axis-angle, ``trans`` (T, 3), ``betas`` (10,), ``mocap_framerate``, ``gender``.
    """
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    world = world_transform(result.ground)  # the same world the Blender scene builds
    written = []
    for track in result.people:
        orient, trans = change_frame(track.rest_joints, track.global_orient, track.transl, world.rotation, world.offset)
        poses = np.concatenate([orient, np.asarray(track.body_pose, np.float64).reshape(-1, 69)], axis=1)
        path = folder / f"person_{track.id:03d}.npz"
        np.savez(
            path,
            poses=poses.astype(np.float64),
            trans=trans.astype(np.float64),
            betas=np.asarray(track.betas, np.float64),
            mocap_framerate=np.array(result.video.fps / _frame_step(track)),
            gender=np.array(result.body_model.gender),
        )
        written.append(path)
    return written
