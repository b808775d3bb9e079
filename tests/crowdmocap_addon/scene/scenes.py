"""Helpers for the Blender scene tests: exact synthetic results, evaluated bone heads, datablock counts."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.body.smpl_file import load_smpl_model
from crowdmocap_addon.core.joints import JOINT_NAMES
from crowdmocap_addon.core.result.schema import CaptureResult, GroundPlane, PinholeCamera
from crowdmocap_addon.core.result.writer import write_result
from tests.helpers.captures import make_capture, turning_camera

# COCO-17 keypoint -> the SMPL joint that stands in for it in an exact synthetic result.
COCO_TO_SMPL = (15, 15, 15, 15, 15, 16, 17, 18, 19, 20, 21, 1, 2, 4, 5, 7, 8)
ID_COLLECTIONS = ("objects", "meshes", "armatures", "actions", "cameras", "collections", "movieclips", "images")


def camera_joints(track) -> np.ndarray:
    """(T, 24, 3) the result's joints in the camera frame."""
    return forward_kinematics(track.rest_joints, track.global_orient, track.body_pose, track.transl).joints


def exact_capture(
    seed: int = 0,
    people: int = 3,
    frames: int = 10,
    *,
    width: int = 768,
    height: int = 576,
    principal_point: tuple[float, float] = (384.0, 288.0),
    ground: bool = True,
) -> CaptureResult:
    """A capture whose 2D keypoints are exactly the camera's projection of its joints."""
    capture = make_capture(seed=seed, people=people, frames=frames, with_ground=ground)
    capture.video = replace(capture.video, width=width, height=height)
    capture.camera = PinholeCamera(focal_px=float(np.hypot(width, height)), principal_point=principal_point)
    for track in capture.people:
        pixels = capture.camera.project(camera_joints(track)[:, COCO_TO_SMPL])
        track.keypoints2d = np.concatenate([pixels, np.ones((*pixels.shape[:2], 1))], axis=2)
    return capture


def exact_moving_capture(seed: int = 0, people: int = 3, frames: int = 10, **turn: float) -> CaptureResult:
    """``exact_capture`` filmed by a camera that turns and zooms (``turning_camera``): each frame's keypoints
    are that frame's camera's projection of the joints, ``K_t R_t X``."""
    from crowdmocap_addon.core.geometry import axis_angle_to_matrix

    capture = exact_capture(seed=seed, people=people, frames=frames)
    motion = capture.camera_motion = turning_camera(capture, **turn)
    for track in capture.people:
        rows = motion.slots(track.frames)
        seen = np.einsum("tij,tkj->tki", axis_angle_to_matrix(motion.rotation[rows]), camera_joints(track))
        pixels = seen[..., :2] / seen[..., 2:] * motion.focal_px[rows, None, None] + np.asarray(
            capture.camera.principal_point
        )
        track.keypoints2d[..., :2] = pixels[:, COCO_TO_SMPL]
    return capture


def smpl_capture(smpl_path: Path, seed: int = 0, people: int = 2, frames: int = 6) -> CaptureResult:
    """A capture made with the given SMPL model: rest_joints are the model's joints for each person's betas."""
    capture = make_capture(seed=seed, people=people, frames=frames)
    capture.body_model = replace(capture.body_model, kind="smpl")
    model = load_smpl_model(smpl_path)
    for track in capture.people:
        track.rest_joints = model.rest_joints(track.betas)
    return capture


def standing_capture(ground: GroundPlane, seed: int = 0) -> CaptureResult:
    """People standing on the floor ``ground`` (rest pose, feet at their lowest joints on the plane)."""
    capture = make_capture(seed=seed, people=3, frames=4)
    capture.ground = ground
    normal = np.asarray(ground.normal)
    for track in capture.people:
        track.body_pose = np.zeros_like(track.body_pose)
        joints = camera_joints(track)
        lowest = np.min(joints @ normal + ground.offset, axis=1)  # height of each frame's lowest joint
        track.transl = track.transl - lowest[:, None] * normal
    return capture


def write(tmp_path: Path, capture: CaptureResult, name: str = "take.npz") -> Path:
    return write_result(tmp_path / name, capture)


def posed_heads(scene, armature, frame: int) -> np.ndarray:
    """(24, 3) world-space heads of the armature's pose bones at a scene frame."""
    scene.frame_set(frame)
    world = np.array(armature.matrix_world)
    heads = np.array([armature.pose.bones[name].head for name in JOINT_NAMES])
    return heads @ world[:3, :3].T + world[:3, 3]


def datablock_counts(bpy) -> dict[str, int]:
    return {name: len(getattr(bpy.data, name)) for name in ID_COLLECTIONS}
