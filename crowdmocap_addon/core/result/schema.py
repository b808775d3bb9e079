"""The CrowdMocap result format, version 1.2: constants, typed containers and checks.

Specified in docs/result-format.md. Both the writer (server) and the reader (add-on) validate through
``validate_person`` and ``validate_capture`` here, so the writer can never produce a file the reader
rejects.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..joints import JOINT_NAMES, NUM_BODY_JOINTS, NUM_JOINTS, NUM_KEYPOINTS

FORMAT_NAME = "crowdmocap.result"
FORMAT_VERSION = (1, 2)
META_KEY = "meta"
PERSON_PREFIX = "person/"
NUM_BETAS = 10
BODY_MODEL_KINDS = ("smpl", "standin")

# Per-person arrays: name -> shape, with "T" the person's frame count. Order is the documented order.
PERSON_FIELDS: dict[str, tuple[int | str, ...]] = {
    "frames": ("T",),
    "global_orient": ("T", 3),
    "body_pose": ("T", NUM_BODY_JOINTS, 3),
    "betas": (NUM_BETAS,),
    "transl": ("T", 3),
    "rest_joints": (NUM_JOINTS, 3),
    "keypoints2d": ("T", NUM_KEYPOINTS, 3),
    "bbox": ("T", 4),
    "confidence": ("T",),
    "foot_contact": ("T", 2),
}

# Bounds on what a scene can be built from: beyond them a value is damage, not data, and Blender (whose
# largest frame is 1,048,574; frames are keyed one up from the video's 0-based index) would fail or key
# infinities. A result covers at most the first 1,048,573 frames of a video (9.7 hours at 30 fps).
MAX_FRAME_INDEX = 1_048_573
MAX_IMAGE_SIDE = 65_536  # pixels: Blender's largest render resolution
MAX_FPS = 1_000.0
MAX_PIXELS = 1e6  # |pixel coordinate| of keypoints, boxes, the principal point; 1e7 for the focal length
MAX_METRES = 1e4  # |translation| and the floor's offset: 10 km from the camera
# Largest |value| of each float field (rotations are axis-angle: a few pi; shape coefficients a few units)
FIELD_LIMITS: dict[str, float] = {
    "global_orient": 1e3, "body_pose": 1e3, "betas": 1e3, "transl": MAX_METRES, "rest_joints": 10.0,
    "keypoints2d": MAX_PIXELS, "bbox": MAX_PIXELS, "confidence": 1.0, "foot_contact": 1.0,
}  # fmt: skip

# Optional per-person arrays, with the minor version that added them; a file without one reads as None.
OPTIONAL_PERSON_FIELDS: dict[str, tuple[int | str, ...]] = {"quality": ("T",)}  # 1.1

# Per-frame quality codes (``CapturedPerson.quality``, uint8): how far to trust each frame's body.
QUALITY_OBSERVED = 0  # the person was seen and the motion agrees with what was seen
QUALITY_FILLED = 1  # not seen (occluded, missed): the motion model filled it in
QUALITY_REPAIRED = 2  # seen, but the motion was moved far from the evidence to stay physically plausible
QUALITY_NAMES = ("observed", "filled", "repaired")

# A moving camera (format 1.2): one array per field under ``camera/``, "T" the number of processed frames.
CAMERA_PREFIX = "camera/"
CAMERA_FIELDS: dict[str, tuple[int | str, ...]] = {
    "frames": ("T",), "rotation": ("T", 3), "centre": ("T", 3), "focal_px": ("T",), "measured": ("T",),
}  # fmt: skip


class ResultFormatError(ValueError):
    """A result file (or data about to be written as one) breaks the format; the message says where."""


def person_key(person_id: int, field_name: str) -> str:
    """The archive key of one person's array, e.g. ``person/7/transl``."""
    return f"{PERSON_PREFIX}{person_id}/{field_name}"


@dataclass(kw_only=True, frozen=True)
class VideoInfo:
    path: str
    width: int
    height: int
    fps: float
    fps_rational: tuple[int, int]  # exact rate as numerator / denominator, e.g. (30000, 1001)
    frame_count: int
    first_frame: int = 0  # index of the first frame processed


@dataclass(frozen=True)
class PinholeCamera:
    """One camera for the whole image, OpenCV axes (x right, y down, z forward), pixels."""

    focal_px: float
    principal_point: tuple[float, float]

    def project(self, points: np.ndarray) -> np.ndarray:
        """(..., 3) camera-frame points (z > 0) -> (..., 2) pixels: u = f x / z + c."""
        points = np.asarray(points, dtype=np.float64)
        return points[..., :2] / points[..., 2:3] * self.focal_px + np.asarray(self.principal_point)

    def rays(self, pixels: np.ndarray) -> np.ndarray:
        """(..., 2+) pixels (extra columns such as confidence ignored) -> (..., 3) rays with z = 1."""
        uv = np.asarray(pixels, dtype=np.float64)[..., :2]
        xy = (uv - np.asarray(self.principal_point)) / self.focal_px
        return np.concatenate([xy, np.ones((*xy.shape[:-1], 1))], axis=-1)


@dataclass(kw_only=True)
class CameraMotion:
    """The camera of every processed frame, for footage whose camera moved (format 1.2).

    A world point ``X`` (the frame people and the floor are in) is ``R_t (X - centre_t)`` in frame t's
    camera, with ``R_t = rot(rotation[t])``, and projects with ``focal_px[t]`` about the result camera's
    principal point. ``measured`` is 0 where the camera could not be measured (a whip pan, a blurred
    frame) and was bridged from its neighbours.
    """

    frames: np.ndarray  # (N,) int video frame indices, strictly increasing
    rotation: np.ndarray  # (N, 3) axis-angle, world -> this frame's camera (OpenCV axes)
    centre: np.ndarray  # (N, 3) metres, the camera's centre in the world
    focal_px: np.ndarray  # (N,) pixels
    measured: np.ndarray  # (N,) uint8: 1 measured, 0 bridged

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    def slots(self, frames: np.ndarray) -> np.ndarray:
        """The row of each of ``frames`` (video frame indices that must be among ``self.frames``)."""
        rows = np.searchsorted(self.frames, frames)
        rows = np.clip(rows, 0, self.num_frames - 1)
        if not np.array_equal(self.frames[rows], frames):
            raise ResultFormatError("frames without a camera: every person's frame must have one")
        return rows

    def in_cameras(self, frames: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(T, ..., 3) world points at ``frames`` -> each frame's camera: R_t (X - c_t)."""
        from ..geometry import axis_angle_to_matrix  # pure NumPy; imported here to keep this module's imports flat

        rows = self.slots(np.asarray(frames))
        flat = np.asarray(points, dtype=np.float64).reshape(len(rows), -1, 3) - np.asarray(self.centre)[rows, None]
        seen = np.einsum("tij,tkj->tki", axis_angle_to_matrix(np.asarray(self.rotation, dtype=np.float64)[rows]), flat)
        return seen.reshape(np.shape(points))


@dataclass(frozen=True)
class BodyModelInfo:
    kind: str  # "smpl" (rest_joints from the user's SMPL file) or "standin" (CrowdMocap's own skeleton)
    gender: str = "neutral"
    joint_names: tuple[str, ...] = JOINT_NAMES


@dataclass(frozen=True)
class PipelineInfo:
    pose_backend: str
    estimator: str
    versions: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class GroundPlane:
    """normal · X + offset = 0 for points X on the ground, camera frame, metres."""

    normal: tuple[float, float, float]
    offset: float


@dataclass(kw_only=True)
class CapturedPerson:
    """One person of a result: their motion over T frames, arrays shaped as in ``PERSON_FIELDS``."""

    id: int
    frames: np.ndarray  # (T,) int video frame indices, strictly increasing
    global_orient: np.ndarray  # (T, 3) axis-angle, camera frame
    body_pose: np.ndarray  # (T, 23, 3) axis-angle, parent-relative
    betas: np.ndarray  # (10,) one shape for all their frames
    transl: np.ndarray  # (T, 3) metres
    rest_joints: np.ndarray  # (24, 3) metres, the person's rest skeleton
    keypoints2d: np.ndarray  # (T, 17, 3) COCO x, y pixels and confidence
    bbox: np.ndarray  # (T, 4) x0, y0, x1, y1 pixels
    confidence: np.ndarray  # (T,) 0 marks a frame filled in, not observed
    foot_contact: np.ndarray  # (T, 2) left/right contact probability
    quality: np.ndarray | None = None  # (T,) uint8 QUALITY_* codes (format 1.1); None: see ``frame_quality``

    @property
    def num_frames(self) -> int:
        return int(self.frames.shape[0])

    @property
    def frame_quality(self) -> np.ndarray:
        """(T,) quality codes; for a file without them (1.0), observed where confidence > 0, else filled."""
        if self.quality is not None:
            return np.asarray(self.quality, dtype=np.uint8)
        return np.where(np.asarray(self.confidence) > 0, QUALITY_OBSERVED, QUALITY_FILLED).astype(np.uint8)


@dataclass(kw_only=True)
class CaptureResult:
    video: VideoInfo
    camera: PinholeCamera
    body_model: BodyModelInfo
    pipeline: PipelineInfo
    ground: GroundPlane | None
    people: list[CapturedPerson]
    version: tuple[int, int] = FORMAT_VERSION
    camera_motion: CameraMotion | None = None  # None: the camera stood still (and people are in its frame)

    def person(self, person_id: int) -> CapturedPerson:
        for track in self.people:
            if track.id == person_id:
                return track
        raise KeyError(f"no person {person_id} in this result")


def expected_shape(spec: tuple[int | str, ...], frames: int) -> tuple[int, ...]:
    return tuple(frames if dim == "T" else int(dim) for dim in spec)


def validate_person(track: CapturedPerson) -> None:
    """Raise ResultFormatError unless every array has its documented shape, a real dtype and finite values."""
    where = f"person {track.id}"
    if not isinstance(track.id, int | np.integer) or isinstance(track.id, bool) or track.id < 0:
        raise ResultFormatError(f"person id {track.id!r} must be a non-negative integer")
    count = _validate_frames(np.asarray(track.frames), where)
    for name, spec in PERSON_FIELDS.items():
        value = np.asarray(getattr(track, name))
        expected = expected_shape(spec, count)
        if value.shape != expected:
            raise ResultFormatError(f"{where}: '{name}' has shape {value.shape}, expected {expected}")
        if name != "frames":
            if value.dtype.kind != "f":
                raise ResultFormatError(f"{where}: '{name}' must hold floats, got {value.dtype}")
            if not np.all(np.isfinite(value)):
                raise ResultFormatError(f"{where}: '{name}' holds NaN or infinite values")
    for name in ("confidence", "foot_contact"):
        value = np.asarray(getattr(track, name))
        if np.any(value < 0) or np.any(value > 1):
            raise ResultFormatError(f"{where}: '{name}' must lie in [0, 1]")
    for name, limit in FIELD_LIMITS.items():
        if np.any(np.abs(np.asarray(getattr(track, name))) > limit):
            raise ResultFormatError(f"{where}: '{name}' holds values beyond ±{limit:g}")
    if track.quality is not None:
        _validate_quality(np.asarray(track.quality), count, where)


def _validate_frames(frames: np.ndarray, where: str) -> int:
    """The frame count, once ``frames`` is known to be non-empty, integer, increasing and non-negative."""
    if frames.ndim != 1 or frames.shape[0] == 0:
        raise ResultFormatError(f"{where}: 'frames' must be a non-empty 1-D array, got shape {frames.shape}")
    if frames.dtype.kind not in "iu":
        raise ResultFormatError(f"{where}: 'frames' must hold integers, got {frames.dtype}")
    if np.any(frames < 0) or np.any(frames > MAX_FRAME_INDEX):
        raise ResultFormatError(f"{where}: 'frames' must lie in 0..{MAX_FRAME_INDEX} (Blender's frame range)")
    if frames.size > 1 and np.any(frames[1:] <= frames[:-1]):  # not np.diff: it wraps for unsigned integers
        raise ResultFormatError(f"{where}: 'frames' must be strictly increasing")
    return int(frames.shape[0])


def _validate_quality(quality: np.ndarray, count: int, where: str) -> None:
    if quality.shape != (count,) or quality.dtype.kind not in "iu":
        raise ResultFormatError(f"{where}: 'quality' must be ({count},) integers, got {quality.shape} {quality.dtype}")
    if np.any((quality < 0) | (quality >= len(QUALITY_NAMES))):
        raise ResultFormatError(f"{where}: 'quality' codes must be 0 (observed), 1 (filled) or 2 (repaired)")


def _finite(value: float, what: str) -> None:
    if not math.isfinite(value):
        raise ResultFormatError(f"{what} must be a finite number, got {value}")


def _validate_video(video: VideoInfo) -> None:
    if not (0 < video.width <= MAX_IMAGE_SIDE and 0 < video.height <= MAX_IMAGE_SIDE):
        raise ResultFormatError(f"video size {video.width}x{video.height} must be 1..{MAX_IMAGE_SIDE} pixels a side")
    _finite(video.fps, "video.fps")
    num, den = video.fps_rational
    if not 0 < video.fps <= MAX_FPS or num <= 0 or den <= 0:
        raise ResultFormatError(f"video.fps must be in (0, {MAX_FPS:g}] and video.fps_rational positive")
    if abs(num / den - video.fps) > 1e-3 * video.fps:
        raise ResultFormatError(f"video.fps {video.fps} disagrees with fps_rational {num}/{den}")
    if not (0 <= video.frame_count <= 2**31 and 0 <= video.first_frame <= MAX_FRAME_INDEX):
        raise ResultFormatError(f"video.frame_count must be in 0..2^31 and video.first_frame in 0..{MAX_FRAME_INDEX}")


def _validate_camera(camera: PinholeCamera) -> None:
    _finite(camera.focal_px, "camera.focal_px")
    if not 0 < camera.focal_px <= 10 * MAX_PIXELS:
        raise ResultFormatError(f"camera.focal_px must be in (0, {10 * MAX_PIXELS:g}]")
    for value in camera.principal_point:
        _finite(value, "camera.principal_point")
        if abs(value) > MAX_PIXELS:
            raise ResultFormatError(f"camera.principal_point must lie within ±{MAX_PIXELS:g} pixels")


def _validate_ground(ground: GroundPlane) -> None:
    normal = np.asarray(ground.normal, dtype=np.float64)
    if normal.shape != (3,) or not np.all(np.isfinite(normal)) or abs(np.linalg.norm(normal) - 1) > 1e-3:
        raise ResultFormatError("ground.normal must be a finite unit 3-vector")
    _finite(ground.offset, "ground.offset")
    if abs(ground.offset) > MAX_METRES:
        raise ResultFormatError(f"ground.offset must lie within ±{MAX_METRES:g} m")


def validate_camera_motion(motion: CameraMotion) -> None:
    """Raise ResultFormatError unless every camera array has its shape, dtype and a value a scene can hold."""
    count = _validate_frames(np.asarray(motion.frames), "camera")
    for name, spec in CAMERA_FIELDS.items():
        value = np.asarray(getattr(motion, name))
        if value.shape != expected_shape(spec, count):
            raise ResultFormatError(f"camera: '{name}' has shape {value.shape}, expected {expected_shape(spec, count)}")
        if name in ("rotation", "centre", "focal_px") and (value.dtype.kind != "f" or not np.all(np.isfinite(value))):
            raise ResultFormatError(f"camera: '{name}' must hold finite floats")
    if np.any(np.abs(motion.rotation) > 1e3) or np.any(np.abs(motion.centre) > MAX_METRES):
        raise ResultFormatError(f"camera: rotations must lie within ±1000 and centres within ±{MAX_METRES:g} m")
    if np.any(motion.focal_px <= 0) or np.any(motion.focal_px > 10 * MAX_PIXELS):
        raise ResultFormatError(f"camera: 'focal_px' must be in (0, {10 * MAX_PIXELS:g}]")
    measured = np.asarray(motion.measured)
    if measured.dtype.kind not in "iu" or np.any((measured != 0) & (measured != 1)):
        raise ResultFormatError("camera: 'measured' must hold 0 (bridged) or 1 (measured) integers")


def validate_capture(result: CaptureResult) -> None:
    """Raise ResultFormatError unless the whole capture is consistent (meta and every person)."""
    _validate_video(result.video)
    _validate_camera(result.camera)
    if result.camera_motion is not None:
        validate_camera_motion(result.camera_motion)
    if result.body_model.kind not in BODY_MODEL_KINDS:
        raise ResultFormatError(f"body_model.kind {result.body_model.kind!r} is not one of {BODY_MODEL_KINDS}")
    if tuple(result.body_model.joint_names) != JOINT_NAMES:
        raise ResultFormatError("body_model.joint_names must be the 24 SMPL joint names in SMPL order")
    if result.ground is not None:
        _validate_ground(result.ground)
    seen: set[int] = set()
    for track in result.people:
        validate_person(track)
        if result.camera_motion is not None:
            try:
                result.camera_motion.slots(np.asarray(track.frames))
            except ResultFormatError as exc:
                raise ResultFormatError(f"person {track.id}: {exc}") from exc
        if int(track.id) in seen:
            raise ResultFormatError(f"person id {track.id} appears twice")
        seen.add(int(track.id))
