"""People from the camera of the frame they were seen in into one world for the clip: the first frame's camera.

Every estimator places a person in the camera of their frame; the clean-up, the floor and the whole-motion
fit need one frame for the whole clip. For a camera that only turns and zooms, frame t's pixels map into
the first frame's image by the homography ``K_0 R_t^T K_t^-1`` whatever the depth, so once a person's
root is turned by ``R_t^T`` and their 2D evidence moved by that homography, the clean-up's reprojection,
contacts and floor work unchanged in the world, and exactly. The result keeps the keypoints the image showed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import change_frame
from crowdmocap_addon.core.geometry import matrix_to_axis_angle
from crowdmocap_addon.core.result.schema import CameraMotion, CapturedPerson

from ..estimators.person_motion import PersonMotion
from ..tracking.tracker import Track
from .path import CameraPath
from .rotation import intrinsics

STILL_TOLERANCE = 1e-12  # a path this close to the first frame's camera everywhere is a still camera


@dataclass(frozen=True, kw_only=True)
class ClipCamera:
    """The measured camera of every processed frame: ``path`` row i is video frame ``frames[i]``."""

    frames: np.ndarray  # (N,) video frame indices, increasing
    path: CameraPath
    principal_point: tuple[float, float]

    @property
    def still(self) -> bool:
        """True when no frame turned or zoomed away from the first (a tripod clip: the compact result)."""
        turned = np.abs(self.path.rotations - np.eye(3)).max(initial=0.0)
        zoomed = np.abs(self.path.focals - self.path.focals[0]).max(initial=0.0)
        return bool(turned <= STILL_TOLERANCE and zoomed <= STILL_TOLERANCE * self.path.focals[0])

    def rows(self, frames: np.ndarray) -> np.ndarray:
        rows = np.searchsorted(self.frames, frames)
        if np.any(rows >= len(self.frames)) or not np.array_equal(self.frames[rows], frames):
            raise ValueError("a person's frame was not processed by the camera stage")
        return rows

    def to_reference(self, frames: np.ndarray) -> np.ndarray:
        """(T, 3, 3) homographies taking each of ``frames``' pixels into the first frame's image."""
        rows = self.rows(frames)
        reference = intrinsics(float(self.path.focals[0]), self.principal_point)
        own = np.stack([np.linalg.inv(intrinsics(float(f), self.principal_point)) for f in self.path.focals[rows]])
        return reference @ np.swapaxes(self.path.rotations[rows], 1, 2) @ own

    def zoom_to_reference(self, frames: np.ndarray) -> np.ndarray:
        """(T,) how much each frame's pixels scale about the principal point to be seen at the first focal."""
        return self.path.focals[0] / self.path.focals[self.rows(frames)]

    def motion(self) -> CameraMotion:
        """The result file's per-frame camera (the camera turns about a fixed centre: no parallax yet)."""
        return CameraMotion(frames=self.frames.astype(np.int64), rotation=matrix_to_axis_angle(self.path.rotations),
                            centre=np.zeros((len(self.frames), 3)), focal_px=self.path.focals.astype(np.float64),
                            measured=self.path.reliable.astype(np.uint8))  # fmt: skip

    def bridged_spans(self) -> list[tuple[int, int]]:
        """(first, last) video frames of each run the camera could not measure and was bridged over."""
        spans: list[tuple[int, int]] = []
        unmeasured = np.flatnonzero(~self.path.reliable)
        for run in np.split(unmeasured, np.flatnonzero(np.diff(unmeasured) > 1) + 1) if unmeasured.size else []:
            spans.append((int(self.frames[run[0]]), int(self.frames[run[-1]])))
        return spans


def move_points(homographies: np.ndarray, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3, 3) and (T, K, 2) pixels -> the moved (T, K, 2) pixels, and (T, K) True where in front of the camera."""
    homogeneous = np.concatenate([points, np.ones((*points.shape[:-1], 1))], axis=-1)
    moved = np.einsum("tij,tkj->tki", homographies, homogeneous)
    ahead = moved[..., 2] > 1e-9
    safe = np.where(ahead, moved[..., 2], 1.0)
    return moved[..., :2] / safe[..., None], ahead


def track_in_reference(track: Track, homographies: np.ndarray) -> Track:
    """The track's keypoints as the first frame's camera would see them (points it could not see, behind it
    after a pan past 90 degrees, lose their confidence). Boxes stay the image's: the clean-up reads none."""
    keypoints = np.array(track.keypoints, dtype=np.float64)
    keypoints[..., :2], ahead = move_points(homographies, keypoints[..., :2])
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
    """The person turned from each frame's camera into the first frame's, their 2D evidence moved with them."""
    track = person.track
    to_world = np.swapaxes(camera.path.rotations[camera.rows(track.frames)], 1, 2)  # R_t^T
    orient, transl = change_frame(person.rest_joints, person.global_orient, person.transl, to_world, np.zeros(3))
    return replace(person, global_orient=orient, transl=transl,
                   track=track_in_reference(track, camera.to_reference(track.frames)))  # fmt: skip


def with_image_keypoints(person: CapturedPerson, camera: ClipCamera) -> CapturedPerson:
    """The captured person with the keypoints the footage showed (the first camera's were the clean-up's
    evidence only): what the preview draws and Blender shows. The clean-up may have trimmed or split
    the person, so the keypoints are moved back frame by frame, not looked up by id."""
    keypoints = np.array(person.keypoints2d, dtype=np.float64)
    keypoints[..., :2], _ = move_points(np.linalg.inv(camera.to_reference(person.frames)), keypoints[..., :2])
    return replace(person, keypoints2d=keypoints)


def people_in_world(people: Sequence[PersonMotion], camera: ClipCamera) -> list[PersonMotion]:
    return [person_in_world(person, camera) for person in people]


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
