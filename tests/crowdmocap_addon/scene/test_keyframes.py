"""Keyframe arrays: quaternions that reproduce forward kinematics, continuous signs, bulk layouts."""

import numpy as np
import pytest

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.geometry import (
    axis_angle_to_matrix,
    axis_angle_to_quaternion,
    matrix_to_quaternion,
    sign_continuous,
)
from crowdmocap_addon.core.joints import JOINT_NAMES, PARENTS
from crowdmocap_addon.core.world import ground_alignment, world_transform
from crowdmocap_addon.scene.axes import armature_frame
from crowdmocap_addon.scene.keyframes import (
    CUSTOM_PROPERTIES,
    bone_quaternions,
    interleave,
    motion_channels,
    pelvis_locations,
    person_motion,
    property_channels,
    visibility_channels,
)
from tests.helpers.captures import make_capture


def _quat_to_matrix(q):
    w, x, y, z = np.moveaxis(q / np.linalg.norm(q, axis=-1, keepdims=True), -1, 0)
    return np.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y),
        2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x),
        2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y),
    ], axis=-1).reshape((*q.shape[:-1], 3, 3))  # fmt: skip


def _pose_like_blender(rest_joints, quats, pelvis_location):
    """Armature-space heads as Blender evaluates identity-rest bones: P_i = P_p · [I, J_i − J_p] · [R_i]."""
    rot = _quat_to_matrix(quats)  # (T, 24, 3, 3)
    heads = np.empty(quats.shape[:2] + (3,))
    world = np.empty_like(rot)
    heads[:, 0] = rest_joints[0] + pelvis_location
    world[:, 0] = rot[:, 0]
    for joint in range(1, 24):
        parent = PARENTS[joint]
        heads[:, joint] = heads[:, parent] + world[:, parent] @ (rest_joints[joint] - rest_joints[parent])
        world[:, joint] = world[:, parent] @ rot[:, joint]
    return heads


def test_axis_angle_to_quaternion_matches_the_matrix_route():
    rng = np.random.default_rng(0)
    aa = np.concatenate([rng.normal(size=(50, 3)), rng.normal(scale=1e-9, size=(5, 3)), np.zeros((1, 3))])
    quat = axis_angle_to_quaternion(aa)
    np.testing.assert_allclose(np.linalg.norm(quat, axis=-1), 1.0, atol=1e-12)
    reference = matrix_to_quaternion(axis_angle_to_matrix(aa))
    same_sign = np.where(np.sum(quat * reference, axis=-1, keepdims=True) < 0, -quat, quat)
    np.testing.assert_allclose(same_sign, reference, atol=1e-9)


def test_sign_continuous_undoes_random_flips_and_keeps_rotations():
    rng = np.random.default_rng(1)
    steps = np.cumsum(rng.normal(scale=0.2, size=(200, 5, 3)), axis=0)  # wanders past pi: sign flips
    smooth = axis_angle_to_quaternion(steps)
    flipped = smooth * rng.choice([-1.0, 1.0], size=(200, 5, 1))
    fixed = sign_continuous(flipped)
    assert np.all(np.sum(fixed[1:] * fixed[:-1], axis=-1) > 0)
    np.testing.assert_allclose(np.abs(np.sum(fixed * flipped, axis=-1)), 1.0, atol=1e-12)  # q or -q
    np.testing.assert_allclose(fixed[0], flipped[0])


@pytest.mark.parametrize("aligned", [False, True])
def test_quaternions_and_pelvis_location_reproduce_forward_kinematics(aligned):
    capture = make_capture(seed=4, people=2, frames=15)
    transform = world_transform(capture.ground, aligned)
    to_armature = armature_frame(transform)
    for track in capture.people:
        expected = forward_kinematics(track.rest_joints, track.global_orient, track.body_pose, track.transl).joints
        heads = _pose_like_blender(
            track.rest_joints, bone_quaternions(track, to_armature), pelvis_locations(track, to_armature)
        )
        np.testing.assert_allclose(heads, to_armature.apply(expected), atol=1e-9)


def test_body_quaternions_are_the_smpl_local_rotations():
    track = make_capture(seed=2).people[0]
    quats = bone_quaternions(track, armature_frame(ground_alignment(make_capture().ground)))
    np.testing.assert_allclose(_quat_to_matrix(quats[:, 1:]), axis_angle_to_matrix(track.body_pose), atol=1e-12)


def test_motion_channels_key_every_bone_every_frame():
    track = make_capture(seed=5).people[1]
    channels = motion_channels(person_motion(track, armature_frame(world_transform(None, False))))
    assert len(channels) == 24 * 4 + 3
    paths = {(c.data_path, c.index) for c in channels}
    for name in JOINT_NAMES:
        assert all((f'pose.bones["{name}"].rotation_quaternion', i) in paths for i in range(4))
    assert all(('pose.bones["pelvis"].location', i) in paths for i in range(3))
    for channel in channels:
        np.testing.assert_array_equal(channel.frames, track.frames + 1)
        assert channel.values.shape == track.frames.shape
        assert channel.interpolation == "LINEAR"


def test_property_channels_carry_confidence_contacts_quality_and_implausibility():
    track = make_capture(seed=6).people[0]
    implausible = np.arange(track.num_frames) % 3 == 0
    motion = person_motion(track, armature_frame(world_transform(None, False)), implausible)
    channels = {c.data_path: c for c in property_channels(motion)}
    assert set(channels) == {f'["{name}"]' for name in CUSTOM_PROPERTIES}
    np.testing.assert_array_equal(channels['["crowdmocap_confidence"]'].values, track.confidence)
    np.testing.assert_array_equal(channels['["crowdmocap_contact_left"]'].values, track.foot_contact[:, 0])
    np.testing.assert_array_equal(channels['["crowdmocap_contact_right"]'].values, track.foot_contact[:, 1])
    quality = channels['["crowdmocap_quality"]']
    np.testing.assert_array_equal(quality.values, track.frame_quality)
    assert quality.interpolation == "CONSTANT" and channels['["crowdmocap_confidence"]'].interpolation == "LINEAR"
    flags = channels['["crowdmocap_implausible"]']
    np.testing.assert_array_equal(flags.values, implausible.astype(float))
    assert flags.interpolation == "CONSTANT"


def test_visibility_is_hidden_outside_the_track_with_constant_keys():
    track = make_capture(seed=6).people[0]
    first, last = int(track.frames[0]) + 1, int(track.frames[-1]) + 1
    channels = visibility_channels(first, last)
    assert [c.data_path for c in channels] == ["hide_viewport", "hide_render"]
    for channel in channels:
        np.testing.assert_array_equal(channel.frames, [first - 1, first, last + 1])
        np.testing.assert_array_equal(channel.values, [1.0, 0.0, 1.0])
        assert channel.interpolation == "CONSTANT"


def test_interleave_is_the_keyframe_co_layout():
    co = interleave(np.array([1.0, 2.0, 3.0]), np.array([0.5, -1.0, 2.0]))
    assert co.dtype == np.float32
    np.testing.assert_array_equal(co, [1.0, 0.5, 2.0, -1.0, 3.0, 2.0])
    with pytest.raises(ValueError, match="equal"):
        interleave(np.zeros(3), np.zeros(4))
