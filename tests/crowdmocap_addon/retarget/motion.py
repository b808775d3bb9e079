"""Captures to retarget, and the same person as the retargeter sees it (a SourceMotion) without Blender.

``stepping_capture`` is a crouched person drifting over the floor, feet planted in alternating blocks
(contact 1 for several frames, then 0), with the random joint wobble of ``make_capture``: the feet of the
source slide during contacts, so pinning has something to fix.
"""

from __future__ import annotations

import numpy as np

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.geometry import quaternion_to_matrix
from crowdmocap_addon.core.joints import JOINT_NAMES, PARENTS
from crowdmocap_addon.core.result.schema import CaptureResult
from crowdmocap_addon.core.world import world_transform
from crowdmocap_addon.retarget.armature import Skeleton, pose_matrices
from crowdmocap_addon.retarget.transfer import SourceMotion
from crowdmocap_addon.scene.axes import SMPL_TO_BLENDER, armature_frame
from crowdmocap_addon.scene.keyframes import bone_quaternions, pelvis_locations
from crowdmocap_addon.scene.timeline import scene_frames
from tests.helpers.captures import make_capture

J = {name: index for index, name in enumerate(JOINT_NAMES)}
CONTACT_BLOCK = 9  # frames per planted block


def stepping_capture(seed: int = 0, people: int = 2, frames: int = 40) -> CaptureResult:
    capture = make_capture(seed=seed, people=people, frames=frames)
    rng = np.random.default_rng(seed + 100)
    for track in capture.people:
        count = track.num_frames
        pose = rng.normal(scale=0.05, size=(count, 23, 3))
        for side in ("left", "right"):  # crouch: hips forward, knees bent, ankles back (SMPL local x)
            pose[:, J[f"{side}_hip"] - 1, 0] += -0.45
            pose[:, J[f"{side}_knee"] - 1, 0] += 0.8
            pose[:, J[f"{side}_ankle"] - 1, 0] += -0.3
        track.body_pose = pose
        track.global_orient = np.tile([np.pi, 0.0, 0.0], (count, 1)) + rng.normal(scale=0.03, size=(count, 3))
        track.transl = track.transl[:1] + np.cumsum(rng.normal(scale=0.004, size=(count, 3)), axis=0)
        block = (np.arange(count) // CONTACT_BLOCK) % 2
        track.foot_contact = np.stack([block == 0, block == 1], axis=1).astype(np.float64)
        # Stand on the floor: the lower ball of the foot on the ground plane at the first frame.
        normal = np.asarray(capture.ground.normal)
        joints = forward_kinematics(track.rest_joints, track.global_orient[:1], pose[:1], track.transl[:1]).joints[0]
        height = min(joints[J[f"{side}_foot"]] @ normal for side in ("left", "right")) + capture.ground.offset
        track.transl = track.transl - height * normal
    return capture


def source_skeleton(track) -> Skeleton:
    """The imported armature: SMPL bones at the rest joints, identity rest rotations, object turned +90° about X."""
    rest = np.tile(np.eye(4), (24, 1, 1))
    rest[:, :3, 3] = track.rest_joints
    matrix = np.eye(4)
    matrix[:3, :3] = SMPL_TO_BLENDER
    return Skeleton(names=JOINT_NAMES, parents=PARENTS, rest=rest, object_matrix=matrix)


def source_motion(capture: CaptureResult, person: int = 0, *, contacts: bool = True) -> SourceMotion:
    """What the retargeter reads from an imported person: its keyed pose on every frame, and its contacts."""
    track = capture.people[person]
    to_armature = armature_frame(world_transform(capture.ground, True))
    rotations = quaternion_to_matrix(bone_quaternions(track, to_armature))
    locations = np.zeros((track.num_frames, 24, 3))
    locations[:, 0] = pelvis_locations(track, to_armature)
    skeleton = source_skeleton(track)
    return SourceMotion(
        skeleton=skeleton,
        frames=scene_frames(track.frames),
        pose=pose_matrices(skeleton, rotations, locations),
        contacts=np.asarray(track.foot_contact, dtype=np.float64) if contacts else None,
    )


def world_heads(skeleton: Skeleton, pose: np.ndarray) -> np.ndarray:
    """(T, B, 3) world-space bone heads of an armature-space pose."""
    matrix = skeleton.object_matrix
    return pose[..., :3, 3] @ matrix[:3, :3].T + matrix[:3, 3]


def angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(..., 3) and (..., 3) -> (...,) angle between directions in degrees."""
    cos = np.sum(a * b, axis=-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))
    return np.degrees(np.arccos(np.clip(cos, -1.0, 1.0)))
