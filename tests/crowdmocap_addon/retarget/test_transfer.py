"""The transfer formula on T-pose, A-pose, rolled, scaled and turned rigs, and the root-motion options."""

import numpy as np
import pytest

from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS
from crowdmocap_addon.core.geometry import rotation_angle
from crowdmocap_addon.core.joints import JOINT_NAMES
from crowdmocap_addon.retarget.presets import builtin_presets, find_preset, resolve
from crowdmocap_addon.retarget.transfer import (
    AIM_CHILD,
    RetargetError,
    RetargetOptions,
    TargetRig,
    hip_height_ratio,
    rest_alignment,
    retarget_motion,
)
from crowdmocap_addon.retarget.transforms import rotation_part
from tests.crowdmocap_addon.retarget.motion import J, angle_deg, source_motion, stepping_capture, world_heads
from tests.crowdmocap_addon.retarget.rigs import RIGS, RigSpec, mixamo_rig, skeleton, ue5_rig

NO_PIN = RetargetOptions(foot_pin=False)


def target_rig(spec: RigSpec, *, root: str | None = None) -> TargetRig:
    """The spec's skeleton with its preset resolved, as the Blender worker builds it."""
    skel = skeleton(spec)
    found, _ = resolve(find_preset(spec.preset, builtin_presets()), skel.names)
    joints = {J[joint]: skel.index(bone) for joint, bone in found.items()}
    return TargetRig(skeleton=skel, joints=joints, root=skel.index(root) if root else None)


def segments(rig: TargetRig):
    """(joint, child joint) for every mapped SMPL segment whose child is mapped too."""
    return [(j, AIM_CHILD[j]) for j in rig.joints if AIM_CHILD[j] is not None and AIM_CHILD[j] in rig.joints]


@pytest.fixture(scope="module")
def motion():
    return source_motion(stepping_capture(seed=1, people=1, frames=30))


@pytest.mark.parametrize("kind", sorted(RIGS))
def test_every_mapped_segment_turns_as_the_sources(motion, kind):
    rig = target_rig(RIGS[kind]())
    result = retarget_motion(motion, rig, NO_PIN)
    target = world_heads(rig.skeleton, result.pose)
    source = world_heads(motion.skeleton, motion.pose)
    assert len(segments(rig)) >= 15
    for joint, child in segments(rig):
        got = target[:, rig.joints[child]] - target[:, rig.joints[joint]]
        want = source[:, child] - source[:, joint]
        assert angle_deg(got, want).max() < 1e-4, (kind, JOINT_NAMES[joint])


def test_world_rotations_follow_the_formula(motion):
    """R_b(t) = S_j(t) · S_j⁰⁻¹ · A_b · T_b⁰ for every mapped bone, and the pose really has them."""
    rig = target_rig(ue5_rig())
    result = retarget_motion(motion, rig, NO_PIN)
    src_rest = rotation_part(motion.skeleton.world_rest())
    src_now = rotation_part(motion.skeleton.object_matrix @ motion.pose)
    tgt_rest = rotation_part(rig.skeleton.world_rest())
    align = rest_alignment(motion.skeleton.world_rest(), rig.skeleton.world_rest(), rig.joints)
    posed = rotation_part(rig.skeleton.object_matrix @ result.pose)
    for joint, bone in rig.joints.items():
        expected = src_now[:, joint] @ src_rest[joint].T @ align[joint] @ tgt_rest[bone]
        np.testing.assert_allclose(result.world_rotations[bone], expected, atol=1e-12)
        assert np.degrees(rotation_angle(posed[:, bone], expected)).max() < 1e-5  # arccos near 1: ~1e-8 rad


def test_rest_alignment_lifts_a_pose_arms_and_leaves_a_matching_t_pose_alone():
    capture = stepping_capture(seed=1, people=1, frames=3)
    capture.people[0].rest_joints = STANDIN_REST_JOINTS - STANDIN_REST_JOINTS[0]  # the rigs' own T-pose
    src_rest = source_motion(capture).skeleton.world_rest()
    mixamo = target_rig(mixamo_rig())
    t_pose = rest_alignment(src_rest, mixamo.skeleton.world_rest(), mixamo.joints)
    ue5 = target_rig(ue5_rig())
    a_pose = rest_alignment(src_rest, ue5.skeleton.world_rest(), ue5.joints)
    eye = np.broadcast_to(np.eye(3), (len(t_pose), 3, 3))
    assert np.degrees(rotation_angle(eye, np.stack(list(t_pose.values())))).max() < 1e-5
    for side in ("left", "right"):
        assert np.degrees(rotation_angle(eye[0], a_pose[J[f"{side}_shoulder"]])) == pytest.approx(45.0, abs=1e-6)
    # Bones with no mapped child (hands) inherit the forearm's alignment rather than staying unaligned.
    np.testing.assert_allclose(a_pose[J["left_wrist"]], a_pose[J["left_elbow"]])


def test_unmapped_bones_keep_their_rest_relative_to_their_parents(motion):
    rig = target_rig(ue5_rig())
    result = retarget_motion(motion, rig, NO_PIN)
    mapped = set(rig.joints.values())
    names = rig.skeleton.names
    for name in ("spine_02", "spine_04", "neck_02", "upperarm_twist_01_l", "middle_01_r", "ik_foot_l"):
        bone = names.index(name)
        assert bone not in mapped and bone not in result.rotations
        parent = rig.skeleton.parents[bone]
        expected = result.pose[:, parent] @ rig.skeleton.relative_rest(bone)
        np.testing.assert_allclose(result.pose[:, bone], expected, atol=1e-9)


def test_a_target_facing_the_other_way_is_turned_to_face_like_the_source(motion):
    spec = mixamo_rig()
    turned = np.diag([-1.0, -1.0, 1.0, 1.0])  # the object turned 180° about Z: the rig faces +Y
    rig = target_rig(RigSpec(spec.name, spec.preset, spec.bones, turned))
    result = retarget_motion(motion, rig, NO_PIN)
    target, source = world_heads(rig.skeleton, result.pose), world_heads(motion.skeleton, motion.pose)
    for joint, child in segments(rig):
        got = target[:, rig.joints[child]] - target[:, rig.joints[joint]]
        assert angle_deg(got, source[:, child] - source[:, joint]).max() < 1e-4


def test_hips_follow_the_pelvis_scaled_by_the_hip_height_ratio(motion):
    rig = target_rig(ue5_rig())
    result = retarget_motion(motion, rig, NO_PIN)
    src_heads = world_heads(motion.skeleton, motion.skeleton.rest[None])[0]
    tgt_heads = {joint: rig.skeleton.world_rest()[bone, :3, 3] for joint, bone in rig.joints.items()}
    ratio = hip_height_ratio(src_heads, tgt_heads)
    assert result.scale == pytest.approx(ratio)
    assert 1.05 < ratio < 1.2  # longer legs than the source
    pelvis = world_heads(motion.skeleton, motion.pose)[:, J["pelvis"]]
    hips = world_heads(rig.skeleton, result.pose)[:, rig.hips]
    np.testing.assert_allclose(hips[:, 2], ratio * pelvis[:, 2], atol=1e-9)
    np.testing.assert_allclose(hips[:, :2] - hips[0, :2], ratio * (pelvis[:, :2] - pelvis[0, :2]), atol=1e-9)
    np.testing.assert_allclose(hips[0, :2], pelvis[0, :2], atol=1e-9)  # starts where the person stands


def test_path_keeps_the_hips_on_the_persons_path_where_hips_mode_drifts_with_the_scale(motion):
    rig = target_rig(ue5_rig())  # about 1.1x the source's hip height
    pelvis = world_heads(motion.skeleton, motion.pose)[:, J["pelvis"]]
    path = retarget_motion(motion, rig, RetargetOptions(foot_pin=False, root_motion="PATH"))
    scaled = retarget_motion(motion, rig, NO_PIN)
    hips = world_heads(rig.skeleton, path.pose)[:, rig.hips]
    np.testing.assert_allclose(hips[:, :2], pelvis[:, :2], atol=1e-9)  # on the person at every frame
    np.testing.assert_allclose(hips[:, 2], path.scale * pelvis[:, 2], atol=1e-9)  # at the rig's own height
    drift = np.linalg.norm(world_heads(rig.skeleton, scaled.pose)[:, rig.hips, :2] - pelvis[:, :2], axis=1)
    travelled = np.linalg.norm(pelvis[:, :2] - pelvis[0, :2], axis=1)
    np.testing.assert_allclose(drift, (scaled.scale - 1) * travelled, atol=1e-9)  # what PATH avoids


def test_in_place_keeps_the_hips_over_their_rest_position(motion):
    rig = target_rig(mixamo_rig())
    result = retarget_motion(motion, rig, RetargetOptions(foot_pin=False, root_motion="IN_PLACE"))
    hips = world_heads(rig.skeleton, result.pose)[:, rig.hips]
    rest = rig.skeleton.world_rest()[rig.hips, :3, 3]
    np.testing.assert_allclose(hips[:, :2], np.broadcast_to(rest[:2], hips[:, :2].shape), atol=1e-9)
    assert np.ptp(hips[:, 2]) > 0.001  # the vertical motion stays


def test_root_bone_mode_moves_the_root_horizontally_and_the_hips_keep_their_rest_offset(motion):
    rig = target_rig(ue5_rig(), root="root")
    on_hips = retarget_motion(motion, rig, NO_PIN)
    on_root = retarget_motion(motion, rig, RetargetOptions(foot_pin=False, root_motion="ROOT_BONE"))
    heads_hips = world_heads(rig.skeleton, on_hips.pose)
    heads_root = world_heads(rig.skeleton, on_root.pose)
    body = sorted(rig.joints.values())
    np.testing.assert_allclose(heads_root[:, body], heads_hips[:, body], atol=1e-9)  # the same body motion
    root = rig.root
    rest_root = rig.skeleton.world_rest()[root, :3, 3]
    np.testing.assert_allclose(heads_root[:, root, 2], rest_root[2], atol=1e-9)  # the root stays on the floor
    assert np.ptp(heads_root[:, root, :2], axis=0).max() > 0.01
    assert root in on_root.locations and root not in on_hips.locations
    # Relative to the root, the hips keep their rest horizontal offset: only the vertical bob is theirs.
    hips_rel_root = heads_root[:, rig.hips, :2] - heads_root[:, root, :2]
    rest_rel = rig.skeleton.world_rest()[rig.hips, :3, 3][:2] - rest_root[:2]
    np.testing.assert_allclose(hips_rel_root, np.broadcast_to(rest_rel, hips_rel_root.shape), atol=1e-9)


def test_root_bone_mode_without_a_root_bone_keeps_the_motion_on_the_hips(motion):
    rig = target_rig(mixamo_rig())
    result = retarget_motion(motion, rig, RetargetOptions(foot_pin=False, root_motion="ROOT_BONE"))
    assert any("no separate root bone" in note for note in result.notes)
    assert set(result.locations) == {rig.hips}


def test_a_map_without_the_pelvis_is_refused():
    skel = skeleton(mixamo_rig())
    with pytest.raises(RetargetError, match="pelvis"):
        TargetRig(skeleton=skel, joints={J["left_hip"]: skel.index("mixamorig:LeftUpLeg")})


def test_unknown_root_motion_mode_is_refused():
    with pytest.raises(ValueError, match="root_motion"):
        RetargetOptions(root_motion="SIDEWAYS")
