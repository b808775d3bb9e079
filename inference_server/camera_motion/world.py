"""People from the camera of the frame they were seen in into one world for the clip: the first frame's camera.

Every estimator places a person in the camera of their frame; the clean-up, the floor and the whole-motion
fit need one frame for the whole clip. Each person's root is moved by the frame's camera pose
(``X = R_t^T X_t + c_t``), and the 2D evidence the clean-up reads is moved into the first frame's image
through the person's own depth. For a camera that only turns and zooms that move is the homography
``K_0 R_t^T K_t^-1`` whatever the depth, so the clean-up's reprojection, contacts and floor work
unchanged, and exactly, in the world; for one that also moves its centre (``parallax.py``) it is exact at
the person's depth (their pelvis), within a body's thickness elsewhere. The result keeps the keypoints the
image showed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import change_frame, forward_kinematics
from crowdmocap_addon.core.geometry import matrix_to_axis_angle
from crowdmocap_addon.core.result.schema import CameraMotion, CapturedPerson, GroundPlane

from ..estimators.person_motion import PersonMotion
from ..motion.floor import fit_ground, lowest_foot_points
from ..tracking.tracker import Track
from .parallax import FloorStep, with_translation
from .path import CameraPath

STILL_TOLERANCE = 1e-12  # a path this close to the first frame's camera everywhere is a still camera


@dataclass(frozen=True, kw_only=True)
class ClipCamera:
    """The measured camera of every processed frame: ``path`` row i is video frame ``frames[i]``."""

    frames: np.ndarray  # (N,) video frame indices, increasing
    path: CameraPath
    principal_point: tuple[float, float]
    centres: np.ndarray | None = None  # (N, 3) camera centres in the world (metres); None: it only turned

    @property
    def still(self) -> bool:
        """True when no frame turned, zoomed or moved away from the first (a tripod clip: the compact result)."""
        if len(self.frames) == 0:
            return True
        turned = np.abs(self.path.rotations - np.eye(3)).max(initial=0.0)
        zoomed = np.abs(self.path.focals - self.path.focals[0]).max(initial=0.0)
        shifted = 0.0 if self.centres is None else float(np.abs(self.centres).max(initial=0.0))
        return bool(turned <= STILL_TOLERANCE and zoomed <= STILL_TOLERANCE * self.path.focals[0] and shifted == 0.0)

    def rows(self, frames: np.ndarray) -> np.ndarray:
        rows = np.searchsorted(self.frames, frames)
        if np.any(rows >= len(self.frames)) or not np.array_equal(self.frames[rows], frames):
            raise ValueError("a person's frame was not processed by the camera stage")
        return rows

    def centres_at(self, rows: np.ndarray) -> np.ndarray:
        """(T, 3) the camera centres of ``rows`` in the world (zero for a camera that only turned)."""
        return np.zeros((len(rows), 3)) if self.centres is None else self.centres[rows]

    def _to_world(self, rows: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(T, K, 3) points in the rows' cameras -> the world: R_t^T X + c_t."""
        return np.einsum("tji,tkj->tki", self.path.rotations[rows], points) + self.centres_at(rows)[:, None]

    def _to_camera(self, rows: np.ndarray, points: np.ndarray) -> np.ndarray:
        """(T, K, 3) world points -> the rows' cameras: R_t (X - c_t)."""
        return np.einsum("tij,tkj->tki", self.path.rotations[rows], points - self.centres_at(rows)[:, None])

    def _rays(self, rows: np.ndarray, pixels: np.ndarray, depths: np.ndarray) -> np.ndarray:
        """(T, K, 3) points at ``depths`` (T,) along the rays of (T, K, 2) pixels, in the rows' cameras."""
        xy = (pixels - np.asarray(self.principal_point)) / self.path.focals[rows, None, None]
        return np.concatenate([xy, np.ones((*xy.shape[:-1], 1))], axis=-1) * np.asarray(depths)[:, None, None]

    def _seen(self, rows: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, K, 3) camera points of the rows -> (T, K, 2) pixels, and (T, K) True where in front."""
        ahead = points[..., 2] > 1e-9
        depth = np.where(ahead, points[..., 2], 1.0)[..., None]
        return points[..., :2] / depth * self.path.focals[rows, None, None] + np.asarray(self.principal_point), ahead

    def to_reference(self, frames: np.ndarray, pixels: np.ndarray, depths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(T, K, 2) pixels of ``frames``, seen at ``depths`` (T,) in their cameras -> the first frame's image,
        and (T, K) True where in front of that camera."""
        rows, first = self.rows(frames), np.zeros(len(frames), dtype=np.int64)
        return self._seen(first, self._to_camera(first, self._to_world(rows, self._rays(rows, pixels, depths))))

    def from_reference(self, frames: np.ndarray, pixels: np.ndarray, depths: np.ndarray) -> np.ndarray:
        """The inverse of ``to_reference``: (T, K, 2) first-image pixels at first-camera ``depths`` -> ``frames``'."""
        rows, first = self.rows(frames), np.zeros(len(frames), dtype=np.int64)
        return self._seen(rows, self._to_camera(rows, self._to_world(first, self._rays(first, pixels, depths))))[0]

    def zoom_to_reference(self, frames: np.ndarray) -> np.ndarray:
        """(T,) how much each frame's pixels scale about the principal point to be seen at the first focal."""
        return self.path.focals[0] / self.path.focals[self.rows(frames)]

    def translated(self, steps: Sequence[FloorStep], ground: GroundPlane, row_seconds: float) -> ClipCamera:
        """This camera with each step's translation from the floor where the footage supports one
        (``row_seconds``: the time between two processed frames)."""
        moved = with_translation(self.path, steps, ground, self.principal_point, row_seconds=row_seconds)
        if not moved.moved.any():
            return self
        path = CameraPath(rotations=moved.rotations, focals=moved.focals, reliable=self.path.reliable)
        return replace(self, path=path, centres=moved.centres)

    def motion(self) -> CameraMotion:
        """The result file's per-frame camera."""
        rows = np.arange(len(self.frames))
        return CameraMotion(frames=self.frames.astype(np.int64), rotation=matrix_to_axis_angle(self.path.rotations),
                            centre=self.centres_at(rows), focal_px=self.path.focals.astype(np.float64),
                            measured=self.path.reliable.astype(np.uint8))  # fmt: skip

    def bridged_spans(self) -> list[tuple[int, int]]:
        """(first, last) video frames of each run the camera could not measure and was bridged over."""
        spans: list[tuple[int, int]] = []
        unmeasured = np.flatnonzero(~self.path.reliable)
        for run in np.split(unmeasured, np.flatnonzero(np.diff(unmeasured) > 1) + 1) if unmeasured.size else []:
            spans.append((int(self.frames[run[0]]), int(self.frames[run[-1]])))
        return spans


def track_in_reference(track: Track, camera: ClipCamera, depths: np.ndarray) -> Track:
    """The track's keypoints as the first frame's camera would see them, through the person's ``depths``
    (T,) in each frame's camera (points it could not see, behind it after a pan past 90 degrees, lose
    their confidence). Boxes stay the image's: the clean-up reads none."""
    keypoints = np.array(track.keypoints, dtype=np.float64)
    keypoints[..., :2], ahead = camera.to_reference(track.frames, keypoints[..., :2], depths)
    keypoints[..., 2] = np.where(ahead, keypoints[..., 2], 0.0)
    return replace(track, keypoints=keypoints)


def track_at_reference_zoom(track: Track, camera: ClipCamera) -> Track:
    """The track's keypoints and boxes scaled about the principal point to the first frame's focal length:
    what a camera turned as in that frame but zoomed as in the first would see (an estimator that places
    people with one focal length then places them right in every frame)."""
    scale = camera.zoom_to_reference(track.frames)[:, None]
    centre = np.asarray(camera.principal_point)
    keypoints = np.array(track.keypoints, dtype=np.float64)
    keypoints[..., :2] = (keypoints[..., :2] - centre) * scale[:, None] + centre
    boxes = (np.asarray(track.boxes, dtype=np.float64) - np.tile(centre, 2)) * scale + np.tile(centre, 2)
    return replace(track, keypoints=keypoints, boxes=boxes)


def person_in_world(person: PersonMotion, camera: ClipCamera) -> PersonMotion:
    """The person moved from each frame's camera into the first frame's, their 2D evidence moved with them."""
    track = person.track
    rows = camera.rows(track.frames)
    to_world = np.swapaxes(camera.path.rotations[rows], 1, 2)  # R_t^T
    orient, transl = change_frame(person.rest_joints, person.global_orient, person.transl, to_world,
                                  camera.centres_at(rows))  # fmt: skip
    depths = (person.rest_joints[0] + np.asarray(person.transl))[:, 2]  # the pelvis, in each frame's camera
    return replace(person, global_orient=orient, transl=transl, track=track_in_reference(track, camera, depths))


def with_image_keypoints(person: CapturedPerson, camera: ClipCamera) -> CapturedPerson:
    """The captured person with the keypoints the footage showed (the first camera's were the clean-up's
    evidence only): what the preview draws and Blender shows. The clean-up may have trimmed or split
    the person, so the keypoints are moved back frame by frame, not looked up by id."""
    keypoints = np.array(person.keypoints2d, dtype=np.float64)
    pelvis = forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints[:, 0]
    depths = (camera.path.rotations[0] @ (pelvis - camera.centres_at(np.zeros(1, dtype=np.int64))[0]).T)[2]
    keypoints[..., :2] = camera.from_reference(person.frames, keypoints[..., :2], depths)
    return replace(person, keypoints2d=keypoints)


def floor_under(people: Sequence[PersonMotion]) -> GroundPlane | None:
    """The floor under everyone's lowest feet, as the clean-up fits it (before smoothing): its distance,
    fixed by the people's body size, is what gives a moving camera's translation its metres."""
    if not people:
        return None
    joints = [forward_kinematics(p.rest_joints, p.global_orient, p.body_pose, p.transl).joints for p in people]
    fit = fit_ground(np.concatenate([lowest_foot_points(j) for j in joints]))
    return None if fit is None else fit.plane


def people_in_world(people: Sequence[PersonMotion], camera: ClipCamera) -> list[PersonMotion]:
    return [person_in_world(person, camera) for person in people]


def people_in_clip_world(people: Sequence[PersonMotion], camera: ClipCamera, floor_steps: Sequence[FloorStep],
                         row_seconds: float) -> tuple[list[PersonMotion], ClipCamera]:  # fmt: skip
    """Everyone in the clip's world, and the camera that put them there: first with the camera's turn and
    zoom; then, with the floor under them fitted there, with the camera's own movement where the footage
    shows one (parallax), and again."""
    in_world = people_in_world(people, camera)
    floor = floor_under(in_world)
    if floor is None:
        return in_world, camera
    moving = camera.translated(floor_steps, floor, row_seconds)
    return (in_world, camera) if moving is camera else (people_in_world(people, moving), moving)


def people_in_image(people: Sequence[CapturedPerson], camera: ClipCamera) -> list[CapturedPerson]:
    return [with_image_keypoints(person, camera) for person in people]


def camera_warnings(camera: ClipCamera) -> list[str]:
    """What the animator should know about the measured camera: the frames it was bridged over."""
    spans = camera.bridged_spans()
    if not spans:
        return []
    shown = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:8]) + (" …" if len(spans) > 8 else "")
    count = int((~camera.path.reliable).sum())
    return [
        f"camera: {count} frame(s) could not be measured from the background (a fast pan, blur, or a frame "
        f"filled by people) and were bridged from their neighbours: video frames {shown}"
    ]
