"""Build small, valid CaptureResult objects for tests, with seeded random but plausible content, and damage
written ones on purpose (``rewrite_result``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from crowdmocap_addon.core.result.schema import (
    BodyModelInfo,
    CameraMotion,
    CapturedPerson,
    CaptureResult,
    GroundPlane,
    PinholeCamera,
    PipelineInfo,
    VideoInfo,
)

from .synthetic_smpl import REST_JOINTS


def make_person(person_id: int, frames: np.ndarray, rng: np.random.Generator) -> CapturedPerson:
    count = len(frames)
    # Upright in the OpenCV camera frame: pi about x turns SMPL's y-up body head-up in a y-down camera.
    orient = np.tile([np.pi, 0.0, 0.0], (count, 1)) + rng.normal(scale=0.1, size=(count, 3))
    transl = np.tile([rng.uniform(-2, 2), 0.9, rng.uniform(5, 12)], (count, 1)) + np.cumsum(
        rng.normal(scale=0.02, size=(count, 3)), axis=0
    )
    keypoints = np.concatenate(
        [rng.uniform(0, 700, size=(count, 17, 2)), rng.uniform(0, 1, size=(count, 17, 1))], axis=2
    )
    corner = rng.uniform(0, 500, size=(count, 2))
    return CapturedPerson(
        id=person_id,
        frames=np.asarray(frames, dtype=np.int64),
        global_orient=orient,
        body_pose=rng.normal(scale=0.2, size=(count, 23, 3)),
        betas=rng.normal(scale=0.5, size=10),
        transl=transl,
        rest_joints=REST_JOINTS - REST_JOINTS[0] + rng.normal(scale=0.005, size=(24, 3)),
        keypoints2d=keypoints,
        bbox=np.concatenate([corner, corner + rng.uniform(40, 120, size=(count, 2))], axis=1),
        confidence=rng.uniform(0, 1, size=count),
        foot_contact=rng.uniform(0, 1, size=(count, 2)),
    )


def make_capture(seed: int = 0, people: int = 3, frames: int = 12, with_ground: bool = True) -> CaptureResult:
    rng = np.random.default_rng(seed)
    tracks = []
    for index in range(people):
        start = int(rng.integers(0, 5))
        tracks.append(make_person(index * 3 + 1, np.arange(start, start + frames - index), rng))
    return CaptureResult(
        video=VideoInfo(path="clips/street.mp4", width=768, height=576, fps=29.97, fps_rational=(30000, 1001),
                        frame_count=frames + 5, first_frame=0),
        camera=PinholeCamera(focal_px=float(np.hypot(768, 576)), principal_point=(384.0, 288.0)),
        body_model=BodyModelInfo(kind="standin"),
        pipeline=PipelineInfo(pose_backend="test", estimator="test", versions={"crowdmocap": "0.1.0"},
                              options={"smoothing": 0.5, "max_people": 20}),
        ground=GroundPlane(normal=(0.0, -0.995, 0.0998749), offset=1.6) if with_ground else None,
        people=tracks,
    )  # fmt: skip


def rewrite_result(path: Path, mutate: Callable[[dict[str, np.ndarray], dict[str, Any]], Any]) -> None:
    """Load a written result as raw arrays and its meta, let ``mutate`` change them in place, save back."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: archive[key] for key in archive.files}
    meta = json.loads(str(arrays["meta"]))
    mutate(arrays, meta)
    arrays["meta"] = np.array(json.dumps(meta))
    np.savez(path, **arrays)


def turning_camera(capture: CaptureResult, *, pan: float = 6.0, tilt: float = -2.0, roll: float = 1.5,
                   zoom: float = 1.2) -> CameraMotion:  # fmt: skip
    """A per-frame camera over every frame of ``capture`` that turns (degrees) and zooms (focal x ``zoom``)
    steadily from the capture's camera; one frame in the middle is marked bridged."""
    from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle

    last = max((int(p.frames[-1]) for p in capture.people), default=capture.video.first_frame)
    frames = np.arange(capture.video.first_frame, last + 1, dtype=np.int64)
    t = np.linspace(0.0, 1.0, len(frames))[:, None]
    turns = [axis_angle_to_matrix(t * np.radians(angle) * np.asarray(axis, dtype=np.float64))
             for angle, axis in ((pan, (0, 1, 0)), (tilt, (1, 0, 0)), (roll, (0, 0, 1)))]  # fmt: skip
    rotation = matrix_to_axis_angle(turns[0] @ turns[1] @ turns[2])  # pan, then tilt, then roll
    measured = np.ones(len(frames), dtype=np.uint8)
    measured[len(frames) // 2] = 0
    return CameraMotion(frames=frames, rotation=rotation, centre=np.zeros((len(frames), 3)),
                        focal_px=capture.camera.focal_px * zoom ** t[:, 0], measured=measured)  # fmt: skip
