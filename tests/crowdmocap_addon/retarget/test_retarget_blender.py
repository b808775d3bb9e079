"""In real Blender: imported people retargeted onto T-pose, A-pose, turned and generated Rigify rigs."""

import numpy as np
import pytest

from crowdmocap_addon.core.legs import contact_segments
from crowdmocap_addon.retarget import retarget_bpy
from crowdmocap_addon.retarget.presets import UnknownRigError
from crowdmocap_addon.retarget.retarget_bpy import retarget
from crowdmocap_addon.retarget.transfer import RetargetError, RetargetOptions
from tests.crowdmocap_addon.retarget.blender_scenes import (
    constraint_count,
    fcurves,
    heads,
    import_people,
    keyed_bones,
    keyed_frames,
    sample_frames,
    segment_errors,
)
from tests.crowdmocap_addon.retarget.motion import stepping_capture
from tests.crowdmocap_addon.retarget.rigs import RIGS, build_armature, mixamo_rig, ue5_rig, unknown_rig
from tests.crowdmocap_addon.scene.scenes import datablock_counts

pytestmark = pytest.mark.blender
NO_PIN = RetargetOptions(foot_pin=False)


def _messages():
    messages = []
    return messages, lambda level, message: messages.append((level, message))


@pytest.fixture
def people(bpy_empty, tmp_path):
    return import_people(bpy_empty, tmp_path, stepping_capture(seed=3, people=3, frames=30))


@pytest.mark.parametrize("kind", sorted(RIGS))
def test_mapped_segments_point_like_the_source_on_every_test_rig(bpy_empty, people, kind):
    spec = RIGS[kind]()
    rig = build_armature(bpy_empty, spec)
    before = constraint_count(rig)
    result = retarget(bpy_empty.context, [people[0]], rig, per_person=False, options=NO_PIN)
    assert (result.bone_map.id, result.detected_score) == (spec.preset, 1.0)  # auto-detected
    assert result.targets == [rig] and len(result.actions) == 1
    worst = segment_errors(bpy_empty, people[0], rig, spec.bone_map(), sample_frames(people[0]))
    assert len(worst) >= 15
    assert max(worst.values()) < 2.0, worst
    assert constraint_count(rig) == before == 0
    # Every frame of the person is keyed; unmapped bones are not keyed and stay at rest.
    frames = keyed_frames(people[0])
    hips = spec.bone_map()["pelvis"]
    keys = [fc for fc in fcurves(rig) if fc.data_path == f'pose.bones["{hips}"].rotation_quaternion']
    assert [round(p.co[0]) for p in keys[0].keyframe_points] == list(frames)
    assert keyed_bones(rig) == set(spec.bone_map().values())
    bpy_empty.context.scene.frame_set(int(frames[len(frames) // 2]))
    for bone in rig.pose.bones:
        if bone.name not in spec.bone_map().values():
            np.testing.assert_allclose(np.array(bone.matrix_basis), np.eye(4), atol=1e-6)


def test_a_generated_rigify_rig_is_detected_and_driven_through_its_fk_controls(bpy_empty, people):
    import addon_utils

    if addon_utils.enable("rigify", default_set=True) is None or not hasattr(bpy_empty.ops.pose, "rigify_generate"):
        pytest.skip("Rigify is not available in this Blender")
    try:
        bpy_empty.ops.object.armature_basic_human_metarig_add()
        metarig = bpy_empty.context.active_object
        bpy_empty.ops.pose.rigify_generate()
    finally:
        addon_utils.disable("rigify", default_set=True)
    rig = next(obj for obj in bpy_empty.data.objects if obj.type == "ARMATURE" and obj is not metarig
               and "torso" in obj.data.bones)  # fmt: skip
    before = constraint_count(rig)
    messages, report = _messages()
    result = retarget(bpy_empty.context, [people[1]], rig, per_person=False, options=NO_PIN, report=report)
    assert result.bone_map.id == "rigify"
    assert not [message for level, message in messages if level == "WARNING"], messages
    frames = sample_frames(people[1])
    worst = segment_errors(bpy_empty, people[1], rig, dict(result.bone_map.bones), frames)
    assert len(worst) >= 13 and max(worst.values()) < 2.0, worst
    # The deforming bones follow the controls: FK switched on and the neck following the spine, by the action.
    deform = {"left_hip": "DEF-thigh.L", "left_knee": "DEF-shin.L", "left_ankle": "DEF-foot.L",
              "right_shoulder": "DEF-upper_arm.R", "right_elbow": "DEF-forearm.R", "right_wrist": "DEF-hand.R",
              "spine3": "DEF-spine.003", "neck": "DEF-spine.004", "head": "DEF-spine.006"}  # fmt: skip
    worst_deform = segment_errors(bpy_empty, people[1], rig, deform, frames)
    assert max(worst_deform.values()) < 2.0, worst_deform
    settings = {fc.data_path for fc in fcurves(rig) if fc.data_path.endswith("]") and "][" in fc.data_path}
    assert 'pose.bones["thigh_parent.L"]["IK_FK"]' in settings and 'pose.bones["torso"]["neck_follow"]' in settings
    assert constraint_count(rig) == before  # the rig's own constraints, none added
    # Per-person copies keep working rigs: their constraints and drivers read the copy, not the template.
    (copy,) = retarget(bpy_empty.context, [people[2]], rig, per_person=True, options=NO_PIN).targets
    targets = [c.target for bone in copy.pose.bones for c in bone.constraints if getattr(c, "target", None)]
    drivers = [t.id for d in copy.data.animation_data.drivers for v in d.driver.variables for t in v.targets]
    assert targets and drivers and all(obj is copy for obj in targets + drivers)
    assert len(copy.animation_data.drivers) == len(rig.animation_data.drivers) > 0
    worst_copy = segment_errors(bpy_empty, people[2], copy, deform, sample_frames(people[2], 2))
    assert max(worst_copy.values()) < 2.0, worst_copy


def test_planted_feet_keep_their_height_and_do_not_skate(bpy_empty, tmp_path):
    capture = stepping_capture(seed=4, people=1, frames=40)
    person = import_people(bpy_empty, tmp_path, capture)[0]
    spec = mixamo_rig()
    rig = build_armature(bpy_empty, spec)
    result = retarget(
        bpy_empty.context, [person], rig, per_person=False, options=RetargetOptions(foot_pin=True, blend_frames=3)
    )
    first_frame = int(keyed_frames(person)[0])
    track = capture.people[0]
    skated = 0.0
    for column, side in enumerate(("Left", "Right")):
        ankle, source_ankle = f"mixamorig:{side}Foot", f"{side.lower()}_ankle"
        for first, last in contact_segments(track.foot_contact[:, column]):
            frames = range(first_frame + first, first_frame + last + 1)
            planted = np.array([heads(bpy_empty, rig, [ankle], frame)[ankle] for frame in frames])
            source = np.array([heads(bpy_empty, person, [source_ankle], frame)[source_ankle] for frame in frames])
            assert np.abs(planted[:, 2] - planted[0, 2]).max() < 0.02
            assert np.linalg.norm(np.diff(planted, axis=0), axis=1).max() < 0.01
            skated = max(skated, np.linalg.norm(np.diff(source[:, :2], axis=0), axis=1).max())
            # Planted at the source's contact height, scaled to the rig (same proportions here: within 2 cm).
            scale = result_scale(rig, person)
            assert abs(planted[0, 2] - scale * source[0, 2]) < 0.02
    assert skated > 0.01  # the source's own feet slide: pinning had work to do
    assert result.targets == [rig]


def result_scale(rig, person) -> float:
    """Hip-height ratio measured on the rest poses, as the transfer computes it."""

    def height(obj, hips, ankles):
        world = np.array(obj.matrix_world)
        z = {name: (world @ np.append(np.array(obj.data.bones[name].head_local), 1.0))[2] for name in (hips, *ankles)}
        return z[hips] - np.mean([z[a] for a in ankles])

    return height(rig, "mixamorig:Hips", ("mixamorig:LeftFoot", "mixamorig:RightFoot")) / height(
        person, "pelvis", ("left_ankle", "right_ankle")
    )


def _child_mesh(bpy, rig):
    mesh = bpy.data.meshes.new("Body")
    mesh.from_pydata([(0, 0, 0), (0.1, 0, 0), (0, 0.1, 0)], [], [(0, 1, 2)])
    body = bpy.data.objects.new("Body", mesh)
    bpy.context.scene.collection.objects.link(body)
    body.parent = rig
    body.vertex_groups.new(name="pelvis").add([0, 1, 2], 1.0, "REPLACE")
    body.modifiers.new("Armature", "ARMATURE").object = rig
    return body


def test_duplicate_per_person_makes_one_animated_copy_of_rig_and_meshes_each(bpy_empty, people):
    spec = ue5_rig()
    rig = build_armature(bpy_empty, spec)
    body = _child_mesh(bpy_empty, rig)
    objects_before = set(bpy_empty.data.objects)
    result = retarget(bpy_empty.context, people, rig, per_person=True, options=NO_PIN)
    assert [obj.name for obj in result.targets] == [f"{person.name}_UE5Like" for person in people]
    assert len({action.name for action in result.actions}) == 3
    assert rig.animation_data is None  # the template is not animated
    made = set(bpy_empty.data.objects) - objects_before
    assert made == set(result.targets) | {child for copy in result.targets for child in copy.children}
    for person, copy in zip(people, result.targets, strict=True):
        assert copy.data is not rig.data and copy.users_collection[0] is result.collection
        (mesh,) = copy.children
        assert mesh.name == f"{copy.name}_Body" and mesh.data is body.data  # linked mesh data, own object
        assert mesh.modifiers["Armature"].object is copy
        assert constraint_count(copy) == 0
        assert keyed_bones(copy) == set(spec.bone_map().values())
        assert {fc.data_path for fc in fcurves(copy) if fc.data_path.startswith("hide")} == {"hide_viewport",
                                                                                           "hide_render"}  # fmt: skip
        assert {fc.data_path for fc in fcurves(mesh)} == {"hide_viewport", "hide_render"}
        worst = segment_errors(bpy_empty, person, copy, spec.bone_map(), sample_frames(person, 2))
        assert max(worst.values()) < 2.0, (copy.name, worst)


def test_bones_keep_their_rotation_mode(bpy_empty, people):
    spec = mixamo_rig()
    rig = build_armature(bpy_empty, spec)
    modes = {"mixamorig:LeftArm": "ZXY", "mixamorig:Spine1": "AXIS_ANGLE", "mixamorig:RightUpLeg": "XYZ"}
    for name, mode in modes.items():
        rig.pose.bones[name].rotation_mode = mode
    retarget(bpy_empty.context, [people[2]], rig, per_person=False, options=NO_PIN)
    paths = {fc.data_path for fc in fcurves(rig)}
    assert 'pose.bones["mixamorig:LeftArm"].rotation_euler' in paths
    assert 'pose.bones["mixamorig:Spine1"].rotation_axis_angle' in paths
    assert 'pose.bones["mixamorig:LeftArm"].rotation_quaternion' not in paths
    worst = segment_errors(bpy_empty, people[2], rig, spec.bone_map(), sample_frames(people[2]))
    assert max(worst.values()) < 2.0, worst


def test_root_motion_on_the_root_bone_or_in_place(bpy_empty, people):
    spec = ue5_rig()
    on_root = build_armature(bpy_empty, spec, "OnRoot")
    in_place = build_armature(bpy_empty, spec, "InPlace")
    for rig, mode in ((on_root, "ROOT_BONE"), (in_place, "IN_PLACE")):
        options = RetargetOptions(foot_pin=False, root_motion=mode)
        retarget(bpy_empty.context, [people[0]], rig, per_person=False, options=options)
    assert "root" in keyed_bones(on_root) and "root" not in keyed_bones(in_place)
    frames = sample_frames(people[0])
    roots = np.array([heads(bpy_empty, on_root, ["root"], f)["root"] for f in frames])
    pelvis = np.array([heads(bpy_empty, in_place, ["pelvis"], f)["pelvis"] for f in frames])
    rest = np.array(in_place.matrix_world @ in_place.data.bones["pelvis"].head_local)
    assert np.ptp(roots[:, :2], axis=0).max() > 0.005 and np.allclose(roots[:, 2], roots[0, 2], atol=1e-5)
    np.testing.assert_allclose(pelvis[:, :2], np.broadcast_to(rest[:2], pelvis[:, :2].shape), atol=1e-5)


def test_a_failure_midway_removes_everything_and_restores_the_target(bpy_empty, people, monkeypatch):
    rig = build_armature(bpy_empty, mixamo_rig())
    previous = bpy_empty.data.actions.new("Previous")
    rig.animation_data_create().action = previous
    rig.pose.bones["mixamorig:Head"].location = (0.0, 0.1, 0.0)
    before = datablock_counts(bpy_empty)
    state = {"calls": 0, "fail_on": 2}
    real = retarget_bpy.retarget_motion

    def failing(*args, **kwargs):
        state["calls"] += 1
        if state["calls"] == state["fail_on"]:
            raise RuntimeError("boom")
        return real(*args, **kwargs)

    monkeypatch.setattr(retarget_bpy, "retarget_motion", failing)
    with pytest.raises(RuntimeError, match="boom"):
        retarget(bpy_empty.context, people, rig, per_person=True)  # fails on the second person's copy
    assert datablock_counts(bpy_empty) == before
    real_animate = retarget_bpy.animate

    def animate_then_fail(*args, **kwargs):  # the target's pose is reset and the new action assigned: undo both
        real_animate(*args, **kwargs)
        raise RuntimeError("late")

    monkeypatch.setattr(retarget_bpy, "retarget_motion", real)
    monkeypatch.setattr(retarget_bpy, "animate", animate_then_fail)
    with pytest.raises(RuntimeError, match="late"):
        retarget(bpy_empty.context, [people[0]], rig, per_person=False)
    assert rig.animation_data.action is previous
    assert tuple(rig.pose.bones["mixamorig:Head"].location) == pytest.approx((0.0, 0.1, 0.0))
    assert datablock_counts(bpy_empty) == before


def test_unknown_rigs_and_ambiguous_selections_are_refused_before_anything_changes(bpy_empty, people):
    mystery = build_armature(bpy_empty, unknown_rig())
    before = datablock_counts(bpy_empty)
    with pytest.raises(UnknownRigError, match=r"no bone-map preset matches armature 'Mystery'.*mixamorig:Hips"):
        retarget(bpy_empty.context, [people[0]], mystery, per_person=False)
    rig = build_armature(bpy_empty, mixamo_rig())
    with pytest.raises(RetargetError, match="3 people selected for one rig"):
        retarget(bpy_empty.context, people, rig, per_person=False)
    with pytest.raises(RetargetError, match="no CrowdMocap armatures"):
        retarget(bpy_empty.context, [rig], mystery, per_person=False)
    assert datablock_counts(bpy_empty) == {
        **before,
        "objects": before["objects"] + 1,
        "armatures": before["armatures"] + 1,
    }


def test_constraints_that_turn_driven_bones_are_reported(bpy_empty, people):
    rig = build_armature(bpy_empty, mixamo_rig())
    limit = rig.pose.bones["mixamorig:LeftForeArm"].constraints.new("LIMIT_ROTATION")  # the user's own rig setup
    limit.use_limit_x = limit.use_limit_y = limit.use_limit_z = True
    limit.owner_space = "LOCAL"
    messages, report = _messages()
    retarget(bpy_empty.context, [people[0]], rig, per_person=False, options=NO_PIN, report=report)
    warnings = [message for level, message in messages if level == "WARNING"]
    assert len(warnings) == 1 and "mixamorig:LeftForeArm" in warnings[0], messages
    assert "mixamorig:LeftArm " not in warnings[0]
    assert len(rig.pose.bones["mixamorig:LeftForeArm"].constraints) == 1  # the user's constraint is kept
