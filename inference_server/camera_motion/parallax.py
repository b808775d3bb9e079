"""A camera that also moves its centre (handheld, a gimbal walked along): each step's translation from the
floor, in metres because the people fix the floor's scale.

Far background does not move with the camera's centre, so the turn-and-zoom path stands for it; the
floor, the nearest plane of most footage, does. Its points move between frames s and t by the
plane-induced homography ``H ~ K_t (R + tau m^T) K_s^-1`` with ``m = -n_s / D_s``: ``n_s`` the floor's
unit normal and ``D_s`` the camera's height above it, in frame s's camera, and ``tau = R_t (c_s - c_t)``.
The floor is known once the people stand on it (their body size gives its distance in metres). With
``M = K_t^-1 H K_s ~ mu (R + tau m^T)``, every ``v`` along the floor (``v . m = 0``) has ``M v = mu R v``:
two such directions give ``mu`` and ``R`` (the nearest rotation), then ``tau = (M / mu - R) m / |m|^2``.

A step is given a translation only where the evidence supports it: enough floor points agree, the
rotation agrees with the turn-and-zoom path's, and the translation is larger than what the floor
homography's noise gives a still or only turning camera. Otherwise the step keeps the turn-and-zoom path.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.result.schema import GroundPlane

from .features import MIN_INLIERS, FrameStep
from .path import CameraPath
from .rotation import nearest_rotation

FLOOR_RANSAC_PX = 1.0  # floor points over a few metres of depth: a looser fit than the far background's
# Per floor step (FLOOR_BASELINE frames), of the camera's height above the floor: a camera that only turns
# gave |tau| / D of 4e-4 median, 1.7e-3 at most on the street clip's virtual pan (one-frame steps); a
# hand-held camera walked at 1 m/s at 30 fps, 1.6 m up, gives 8e-2 over 4 frames.
STILL_STEP = 3e-3
FLOOR_BASELINE = 4  # frames between floor steps: parallax grows with the baseline, the noise does not
MAX_TURN_DISAGREEMENT_DEG = 2.0  # the floor's rotation against the turn-and-zoom path's
MAX_SPEED_M_S = 12.0  # a camera faster than a car in town is a floor fit gone wrong, not a hand or a dolly


ESSENTIAL_PX = 0.5  # epipolar distance of an agreeing background point
HOMOGRAPHY_PX = 1.0  # distance from the step's homography of a point it explains, for the parallax test
# Background points agreeing with the essential matrix over those the homography explains, over a floor
# step (FLOOR_BASELINE frames: one frame's parallax drowns in the noise): a camera that moves its centre
# leaves near and far points on different homographies. Measured: 1.31-1.49 on the rendered hand-held
# walk; 1.00-1.02 on the street clip's virtual pan (768 x 576), 1.02-1.05 on the 512 x 384 one that
# zooms faster, 1.00-1.01 still. The median of the last TRANSLATING_WINDOW floor steps is compared.
TRANSLATING_RATIO = 1.15
TRANSLATING_WINDOW = 3


def parallax_ratio(step: FrameStep, focal: float, centre: tuple[float, float]) -> float | None:
    """How many more background points the essential matrix explains than the step's homography does (see
    TRANSLATING_RATIO); None when either cannot be found."""
    if step.homography is None or len(step.source) < MIN_INLIERS:
        return None
    matrix = np.array([[focal, 0.0, centre[0]], [0.0, focal, centre[1]], [0.0, 0.0, 1.0]])
    essential, agree = cv2.findEssentialMat(step.source, step.target, matrix, cv2.RANSAC, 0.999, ESSENTIAL_PX)
    if essential is None or agree is None:
        return None
    mapped = cv2.perspectiveTransform(step.source.reshape(-1, 1, 2).astype(np.float64), step.homography)
    explained = int((np.linalg.norm(mapped.reshape(-1, 2) - step.target, axis=1) < HOMOGRAPHY_PX).sum())
    return int(agree.sum()) / max(explained, 1)


def essential_rotation(step: FrameStep, focal: float, centre: tuple[float, float],
                       near: np.ndarray) -> tuple[np.ndarray, int] | None:  # fmt: skip
    """The camera's turn over ``step`` from the essential matrix of its background points (unbiased by a
    moving centre, unlike the homography), and how many points agree; None when it cannot be found.

    Of the essential matrix's two rotations the one nearer ``near`` (the homography's) is taken: with the
    centre moving centimetres past points metres away, choosing by which side the points are on is unsure.
    """
    if len(step.source) < MIN_INLIERS:
        return None
    matrix = np.array([[focal, 0.0, centre[0]], [0.0, focal, centre[1]], [0.0, 0.0, 1.0]])
    essential, agree = cv2.findEssentialMat(step.source, step.target, matrix, cv2.RANSAC, 0.999, ESSENTIAL_PX)
    if essential is None or essential.shape != (3, 3) or agree is None:
        return None
    first, second, _ = cv2.decomposeEssentialMat(essential)
    off = [Rotation.from_matrix(candidate @ near.T).magnitude() for candidate in (first, second)]
    return (first if off[0] <= off[1] else second), int(agree.sum())


@dataclass(frozen=True)
class FloorStep:
    """The floor's homography from row ``source`` to row ``target`` of a clip's camera path (None: not found)."""

    source: int
    target: int
    homography: np.ndarray | None


def floor_step(step: FrameStep, source: int, target: int, height: int) -> FloorStep:
    """The homography of the background points in the lower half of the frame: in crowd footage, the floor."""
    low = step.source[:, 1] > height / 2.0 if len(step.source) else np.zeros(0, bool)
    if int(low.sum()) < MIN_INLIERS:
        return FloorStep(source, target, None)
    homography, agree = cv2.findHomography(step.source[low], step.target[low], cv2.RANSAC, FLOOR_RANSAC_PX,
                                           maxIters=2000, confidence=0.999)  # fmt: skip
    if homography is None or int(agree.sum()) < MIN_INLIERS:
        return FloorStep(source, target, None)
    return FloorStep(source, target, homography)


def _along(normal: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two orthonormal directions perpendicular to ``normal``."""
    seed = np.array([1.0, 0.0, 0.0]) if abs(normal[0]) < 0.9 else np.array([0.0, 0.0, 1.0])
    first = np.cross(normal, seed)
    first /= np.linalg.norm(first)
    return first, np.cross(normal, first)


@dataclass(frozen=True)
class PlaneMotion:
    rotation: np.ndarray  # (3, 3) frame s camera -> frame t camera
    translation: np.ndarray  # (3,) tau = R_t (c_s - c_t), metres
    focal: float  # frame t's focal length


def _target_focal(shifted: np.ndarray, v1: np.ndarray, v2: np.ndarray) -> float | None:
    """The focal that makes ``diag(1/f, 1/f, 1) G`` an isometry on the floor's directions ``v1``, ``v2``:
    |G v1| = |G v2| and G v1 . G v2 = 0 after the scaling are linear in 1/f^2 (least squares)."""
    g1, g2 = shifted @ v1, shifted @ v2
    rows = np.array([g1[:2] @ g1[:2] - g2[:2] @ g2[:2], g1[:2] @ g2[:2]])
    rhs = -np.array([g1[2] ** 2 - g2[2] ** 2, g1[2] * g2[2]])
    inverse_square = float(rows @ rhs / (rows @ rows)) if rows @ rows > 0 else 0.0
    return 1.0 / np.sqrt(inverse_square) if inverse_square > 0 else None


def plane_motion(homography: np.ndarray, focal: float, centre: tuple[float, float], *, normal: np.ndarray,
                 height: float, near: np.ndarray, target_focal: float | None = None) -> PlaneMotion | None:  # fmt: skip
    """The step from the floor's homography (frame s pixels -> frame t), frame s's focal and the floor in
    frame s's camera (unit ``normal`` pointing up, camera ``height`` above it). Frame t's focal is
    ``target_focal`` when known, else it comes with the step (a step forward is not a zoom on a plane seen
    at an angle). ``H`` fixes R up to a half turn about the floor's normal: the one nearer ``near`` (the
    turn-and-zoom path's step) is taken. None: no such camera."""
    normal = np.asarray(normal, dtype=np.float64)
    m = -normal / float(height)
    shift = np.array([[1.0, 0.0, -centre[0]], [0.0, 1.0, -centre[1]], [0.0, 0.0, 1.0]])
    shifted = shift @ np.asarray(homography, dtype=np.float64) @ np.linalg.inv(shift) @ np.diag([focal, focal, 1.0])
    v1, v2 = _along(normal)
    if target_focal is None:
        target_focal = _target_focal(shifted, v1, v2)
    if target_focal is None:
        return None
    matrix = np.diag([1.0 / target_focal, 1.0 / target_focal, 1.0]) @ shifted  # K_t^-1 H K_s
    a, b = matrix @ v1, matrix @ v2
    scale = (np.linalg.norm(a) + np.linalg.norm(b)) / 2.0
    basis = np.stack([v1, v2, np.cross(v1, v2)], axis=1)
    best: tuple[float, PlaneMotion] | None = None
    for mu in (scale, -scale):
        rotation = nearest_rotation(np.stack([a / mu, b / mu, np.cross(a, b) / mu**2], axis=1) @ basis.T)
        off = float(np.degrees(Rotation.from_matrix(rotation @ np.asarray(near).T).magnitude()))
        if best is None or off < best[0]:
            best = (off, PlaneMotion(rotation, (matrix / mu - rotation) @ m / float(m @ m), target_focal))
    return best[1] if best is not None else None


@dataclass(frozen=True, kw_only=True)
class TranslatedPath:
    rotations: np.ndarray  # (N, 3, 3) world -> each row's camera
    centres: np.ndarray  # (N, 3) each row's camera centre in the world, metres
    focals: np.ndarray  # (N,) pixels
    moved: np.ndarray  # (N,) bool: the floor step ending at the row gave the camera a translation


def with_translation(path: CameraPath, steps: Sequence[FloorStep], ground: GroundPlane, centre: tuple[float, float],
                     *, row_seconds: float) -> TranslatedPath:  # fmt: skip
    """The turn-and-zoom ``path`` with the translation of each floor step (rows ``source`` -> ``target``,
    chained from row 0, the world's origin; ``row_seconds`` apart) where the evidence supports one.

    Between a step's ends the path's own frame-to-frame turn and zoom are kept, the step's correction of
    them spread evenly, and the centre moves linearly. A step the floor says nothing sure about (no floor
    homography, a turn that disagrees, an impossible speed) moves at its neighbours' speed, so one blurred
    frame does not shift the rest of the clip; one the floor says is still does not move. Rows after the
    last step follow the path from there.
    """
    count = len(path.rotations)
    normal, offset = np.asarray(ground.normal, dtype=np.float64), float(ground.offset)
    rotations, focals = np.array(path.rotations, dtype=np.float64), np.array(path.focals, dtype=np.float64)
    centres, moved = np.zeros((count, 3)), np.zeros(count, dtype=bool)
    ordered = [step for step in sorted(steps, key=lambda s: s.target) if step.target > step.source]
    shifts: list[np.ndarray | None] = []  # each step's centre move in the world; None where unknown
    for step in ordered:
        a, t = step.source, step.target
        relative = path.rotations[a + 1 : t + 1] @ path.rotations[a].T  # the path's turn from row a
        zoom = path.focals[a + 1 : t + 1] / path.focals[a]
        turn, focal, shift = relative[-1], float(focals[a] * zoom[-1]), None
        height = offset + normal @ centres[a]
        floor = None
        if step.homography is not None and height > 0:
            held = bool(np.allclose(zoom, 1.0, rtol=1e-9, atol=0.0))  # the path held the zoom (a moving centre)
            floor = plane_motion(step.homography, float(focals[a]), centre, normal=rotations[a] @ normal,
                                 height=height, near=turn, target_focal=float(focals[a]) if held else None)  # fmt: skip
        if floor is not None:
            agrees = np.degrees(Rotation.from_matrix(floor.rotation @ turn.T).magnitude()) < MAX_TURN_DISAGREEMENT_DEG
            size = float(np.linalg.norm(floor.translation))
            if agrees and size <= MAX_SPEED_M_S * row_seconds * (t - a):
                turn, focal = floor.rotation, floor.focal
                end = turn @ rotations[a]
                shift = -end.T @ floor.translation if size >= STILL_STEP * height else np.zeros(3)
                moved[t] = size >= STILL_STEP * height
        end = turn @ rotations[a]
        weights = np.arange(1, t - a + 1) / (t - a)
        correction = Rotation.from_matrix(end @ (relative[-1] @ rotations[a]).T).as_rotvec()
        rotations[a + 1 : t + 1] = (
            Rotation.from_rotvec(weights[:, None] * correction).as_matrix() @ relative @ rotations[a]
        )
        focals[a + 1 : t + 1] = focals[a] * zoom * (focal / (focals[a] * zoom[-1])) ** weights
        guess = _recent_shift(ordered, shifts, t - a) if shift is None else shift  # its height matters below
        centres[a + 1 : t + 1] = centres[a] + weights[:, None] * guess
        shifts.append(shift)
    centres = _refilled(ordered, shifts, centres)
    last = ordered[-1].target if ordered else 0
    if last < count - 1:  # after the last step: the path's turn and zoom from there, the centre kept
        rotations[last + 1 :] = path.rotations[last + 1 :] @ path.rotations[last].T @ rotations[last]
        focals[last + 1 :] = focals[last] * path.focals[last + 1 :] / path.focals[last]
        centres[last + 1 :] = centres[last]
    return TranslatedPath(rotations=rotations, centres=centres, focals=focals, moved=moved)


def _recent_shift(steps: Sequence[FloorStep], shifts: Sequence[np.ndarray | None], span: int) -> np.ndarray:
    """The centre move over ``span`` rows at the speed of the last known step (zero if none is known yet)."""
    for step, shift in zip(reversed(steps[: len(shifts)]), reversed(shifts), strict=True):
        if shift is not None:
            return shift / (step.target - step.source) * span
    return np.zeros(3)


def _refilled(steps: Sequence[FloorStep], shifts: Sequence[np.ndarray | None], centres: np.ndarray) -> np.ndarray:
    """Centres again with each unknown step's move taken from the speed of the known steps on both sides,
    interpolated in time (during the chain they moved at the last known speed: the camera's height used it)."""
    if all(shift is not None for shift in shifts) or not any(shift is not None for shift in shifts):
        return centres
    middles = np.array([(s.source + s.target) / 2.0 for s in steps])
    spans = np.array([s.target - s.source for s in steps], dtype=np.float64)
    known = np.array([shift is not None for shift in shifts])
    speeds = np.array(
        [shift / span if shift is not None else np.zeros(3) for shift, span in zip(shifts, spans, strict=True)]
    )
    filled = np.stack([np.interp(middles, middles[known], speeds[known, axis]) for axis in range(3)], axis=1)
    out = centres.copy()
    position = np.zeros(3)
    for step, speed, span in zip(steps, filled, spans, strict=True):
        a, t = step.source, step.target
        weights = np.arange(1, t - a + 1) / (t - a)
        out[a + 1 : t + 1] = position + weights[:, None] * speed * span
        position = out[t].copy()
    return out
