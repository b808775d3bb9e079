"""Synthetic people with known motion on a known floor, seen by a known camera: ground truth for the motion stage.

A walker, a stander and a turner on the stand-in skeleton, built in a Z-up floor frame (floor at Z = 0)
and expressed in the camera frame of a camera 3 m up, pitched 20° down (the street clip's kind of view).
``observe`` turns a true motion into what the pipeline would have: COCO keypoints with pixel noise and
dropped or occluded frames, and a per-frame estimate with the errors a monocular estimator makes (rotation
noise, depth off by 5-20 % in runs, whole-body left/right flips).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS
from crowdmocap_addon.core.geometry import axis_angle_to_matrix, matrix_to_axis_angle
from crowdmocap_addon.core.joints import SMPL, SMPL_FEET, SMPL_TO_COCO
from crowdmocap_addon.core.result.schema import GroundPlane, PinholeCamera
from crowdmocap_addon.core.world import ground_alignment

FPS = 30.0
IMAGE_SIZE = (960, 540)
CAMERA = PinholeCamera(focal_px=900.0, principal_point=(480.0, 270.0))
_PITCH = np.radians(20.0)
# The floor's up normal in the camera frame (y down, z forward) for a camera pitched down by _PITCH, 3 m up.
GROUND = GroundPlane(normal=(0.0, -float(np.cos(_PITCH)), -float(np.sin(_PITCH))), offset=3.0)
_TO_WORLD = ground_alignment(GROUND)
REST = np.asarray(STANDIN_REST_JOINTS) - np.asarray(STANDIN_REST_JOINTS)[0]
_Y_UP_TO_Z_UP = axis_angle_to_matrix(np.array([np.pi / 2, 0.0, 0.0]))  # SMPL's y-up body stood up in Z-up, facing -Y


@dataclass(kw_only=True, frozen=True)
class TrueMotion:
    """One person's true motion in the camera frame and which feet are planted."""

    global_orient: np.ndarray  # (T, 3)
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    contact: np.ndarray  # (T, 2) bool

    @property
    def joints(self) -> np.ndarray:
        return forward_kinematics(REST, self.global_orient, self.body_pose, self.transl).joints


def _in_camera(world_orient: np.ndarray, pose: np.ndarray, root_world: np.ndarray, *,
               walk: bool = False) -> TrueMotion:  # fmt: skip
    """Body rotations and a pelvis path in the floor frame -> camera-frame SMPL parameters, feet on the floor.

    With ``walk`` the path is not given but made by the feet: each frame the lower foot (the stance foot)
    stays where it is and the pelvis moves over it, so a planted foot never slides (``root_world`` then only
    gives the start).
    """
    to_camera = _TO_WORLD.rotation.T
    orient = matrix_to_axis_angle(to_camera @ world_orient)
    relative = forward_kinematics(REST, orient, pose, np.zeros_like(root_world)).joints @ _TO_WORLD.rotation.T
    feet = [j for foot in SMPL_FEET for j in foot]
    lift = -relative[:, feet, 2].min(axis=1)  # the lowest foot joint on the floor every frame
    sides = relative[:, feet, 2].reshape(-1, 2, 2).min(axis=2)  # (T, 2) each foot's lowest joint
    stance = np.argmin(sides, axis=1)
    root = np.array(root_world, dtype=np.float64)
    if walk:
        toes = relative[:, [SMPL_FEET[0][1], SMPL_FEET[1][1]]]  # (T, 2, 3) each side's toes
        for t in range(1, len(root)):
            side = stance[t]
            root[t, :2] = root[t - 1, :2] - (toes[t, side, :2] - toes[t - 1, side, :2])
    pelvis_world = root + np.column_stack([np.zeros((len(lift), 2)), lift])
    transl = (pelvis_world - _TO_WORLD.offset) @ _TO_WORLD.rotation  # camera-frame pelvis (REST[0] = 0)
    contact = np.zeros((len(lift), 2), bool)
    contact[np.arange(len(lift)), stance] = True
    contact |= sides - sides.min(axis=1, keepdims=True) < 0.005  # both feet down (standing, a hand-over)
    return TrueMotion(global_orient=orient, body_pose=pose, transl=transl, contact=contact)


def walker(frames: int, *, start: tuple[float, float], heading: float, cadence: float = 0.9,
           stride: float = 0.35) -> TrueMotion:  # fmt: skip
    """A walk along ``heading`` (radians from +X in the floor frame), a stride per 1 / cadence s.

    The feet make the path (see ``_in_camera``): about 1.1 m/s at the defaults, faster with a longer
    ``stride`` (the hip swing, radians).
    """
    t = np.arange(frames) / FPS
    phase = 2 * np.pi * cadence * t
    pose = np.zeros((frames, 23, 3))
    for side, shift in ((0, 0.0), (1, np.pi)):
        swing = np.sin(phase + shift)
        pose[:, SMPL[("left", "right")[side] + "_hip"] - 1, 0] = -stride * swing  # negative x: the thigh forward
        knee = 0.7 * np.clip(np.sin(phase + shift + 1.2), 0, None)  # bends while the leg swings through
        pose[:, SMPL[("left", "right")[side] + "_knee"] - 1, 0] = knee
        pose[:, SMPL[("left", "right")[side] + "_shoulder"] - 1, 1] = 0.25 * swing * (1 if side else -1)
    pose[:, SMPL["left_shoulder"] - 1, 2] = -1.2  # arms down from the T-pose
    pose[:, SMPL["right_shoulder"] - 1, 2] = 1.2
    yaw = axis_angle_to_matrix(np.array([0.0, 0.0, heading + np.pi / 2]))  # facing -Y turned to face the heading
    orient = np.broadcast_to(yaw @ _Y_UP_TO_Z_UP, (frames, 3, 3))
    root = np.tile([start[0], start[1], 0.0], (frames, 1))
    return _in_camera(orient, pose, root, walk=True)


def stander(frames: int, *, at: tuple[float, float], facing: float, sway: float = 0.02) -> TrueMotion:
    """Someone standing: both feet planted, a little weight shift and arm movement."""
    t = np.arange(frames) / FPS
    pose = np.zeros((frames, 23, 3))
    pose[:, SMPL["left_shoulder"] - 1, 2] = -1.2 + 0.1 * np.sin(2 * np.pi * 0.3 * t)
    pose[:, SMPL["right_shoulder"] - 1, 2] = 1.2
    pose[:, SMPL["left_elbow"] - 1, 1] = -0.4 - 0.3 * np.sin(2 * np.pi * 0.2 * t)
    yaw = axis_angle_to_matrix(np.array([0.0, 0.0, facing + np.pi / 2]))
    orient = np.broadcast_to(yaw @ _Y_UP_TO_Z_UP, (frames, 3, 3))
    root = np.array([at[0], at[1], 0.0]) + sway * np.column_stack([np.sin(2 * np.pi * 0.25 * t), np.zeros((frames, 2))])
    return _in_camera(orient, pose, root)


def mover(frames: int, *, start: tuple[float, float], velocity: tuple[float, float]) -> TrueMotion:
    """Someone standing, carried along the floor at ``velocity`` (m/s): a pelvis speed known exactly, faster
    than any walker if asked, for the fit's speed bound."""
    motion = stander(frames, at=start, facing=0.0, sway=0.0)
    shift = np.column_stack([np.outer(np.arange(frames) / FPS, velocity), np.zeros(frames)])  # floor frame
    return replace(motion, transl=motion.transl + shift @ _TO_WORLD.rotation)


def turner(frames: int, *, at: tuple[float, float], turns: float = 0.5) -> TrueMotion:
    """Someone turning on the spot (``turns`` full turns over the clip), stepping round."""
    t = np.arange(frames) / FPS
    angle = 2 * np.pi * turns * t / t[-1]
    pose = np.zeros((frames, 23, 3))
    pose[:, SMPL["left_shoulder"] - 1, 2], pose[:, SMPL["right_shoulder"] - 1, 2] = -1.2, 1.2
    orient = np.stack([axis_angle_to_matrix(np.array([0.0, 0.0, a + np.pi / 2])) @ _Y_UP_TO_Z_UP for a in angle])
    root = np.broadcast_to(np.array([at[0], at[1], 0.0]), (frames, 3)).copy()
    return _in_camera(orient, pose, root)


@dataclass(kw_only=True, frozen=True)
class Observed:
    """What the pipeline has for one person: 2D keypoints, a per-frame estimate, which frames were seen."""

    keypoints: np.ndarray  # (T, 17, 3)
    global_orient: np.ndarray  # (T, 3) the per-frame estimate
    body_pose: np.ndarray  # (T, 23, 3)
    transl: np.ndarray  # (T, 3)
    confidence: np.ndarray  # (T,) 0 where not observed (filled in by interpolation)


def observe(truth: TrueMotion, rng: np.random.Generator, *, pixel_noise: float = 2.0, rotation_noise: float = 0.08,
            depth_error: float = 0.15, dropped: float = 0.05, occlusion_s: float = 1.5,
            flips: int = 1) -> Observed:  # fmt: skip
    """The truth as a monocular pipeline sees it (see the module docstring); gaps interpolated like the tracker."""
    count = len(truth.transl)
    joints = truth.joints
    keypoints = np.zeros((count, 17, 3))
    for joint, coco in SMPL_TO_COCO.items():
        keypoints[:, coco, :2] = CAMERA.project(joints[:, joint]) + rng.normal(scale=pixel_noise, size=(count, 2))
        keypoints[:, coco, 2] = rng.uniform(0.6, 1.0, size=count)
    head = CAMERA.project(joints[:, SMPL["head"]])
    for coco in range(5):  # face keypoints: around the head joint
        keypoints[:, coco, :2] = head + rng.normal(scale=pixel_noise, size=(count, 2))
        keypoints[:, coco, 2] = 0.8
    inside = ((keypoints[..., 0] >= 0) & (keypoints[..., 0] < IMAGE_SIZE[0]) & (keypoints[..., 1] >= 0)
              & (keypoints[..., 1] < IMAGE_SIZE[1]))  # fmt: skip
    keypoints[..., 2] *= inside  # outside the picture nothing is seen
    seen = (rng.uniform(size=count) >= dropped) & (inside.sum(axis=1) >= 8)
    hidden = int(occlusion_s * FPS)
    if hidden and count > 3 * hidden:
        begin = int(rng.integers(hidden, count - 2 * hidden))
        seen[begin : begin + hidden] = False
    if not seen.any():
        raise ValueError("the synthetic person is never in view")
    # the estimate: rotations with noise, the depth (distance along the camera ray) off by a slowly varying factor
    noisy = axis_angle_to_matrix(rng.normal(scale=rotation_noise, size=(count, 24, 3))) @ axis_angle_to_matrix(
        np.concatenate([truth.global_orient[:, None], truth.body_pose], axis=1)
    )
    rotations = matrix_to_axis_angle(noisy)
    scale = 1 + depth_error * np.interp(np.arange(count), np.linspace(0, count - 1, 6), rng.uniform(-1, 1, 6))
    transl = truth.transl * scale[:, None]
    pose = rotations[:, 1:].copy()
    for _ in range(flips):  # a left/right flip: the legs' rotations swapped for a stretch
        begin = int(rng.integers(0, max(count - 10, 1)))
        legs = [SMPL[f"{s}_{j}"] - 1 for j in ("hip", "knee", "ankle") for s in ("left", "right")]
        swapped = [SMPL[f"{s}_{j}"] - 1 for j in ("hip", "knee", "ankle") for s in ("right", "left")]
        pose[begin : begin + 8, legs] = pose[begin : begin + 8, swapped]
    index = np.arange(count)
    for axis in range(3):  # unobserved frames: interpolated, as the tracker fills them
        transl[~seen, axis] = np.interp(index[~seen], index[seen], transl[seen, axis])
    keypoints[~seen, :, 2] = 0.0
    return Observed(keypoints=keypoints, global_orient=rotations[:, 0], body_pose=pose, transl=transl,
                    confidence=seen.astype(np.float64) * 0.9)  # fmt: skip
