"""Export people, re-import each file into an empty scene: same frames, rate and bone motion in world space.

World space is compared as each bone's head position and its rotation *relative to its own rest*
(``W(t) · W(rest)⁻¹``): exporters may re-orient bones at rest (FBX, glTF, BVH all do), which changes the
bones' local axes but not how the body moves.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from crowdmocap_addon.core.joints import JOINT_NAMES
from crowdmocap_addon.export.presets import find_preset
from tests.crowdmocap_addon.scene.scenes import exact_capture, write
from tests.helpers.rigid import rigid_fit

pytestmark = pytest.mark.blender
PEOPLE, FRAMES = 2, 12


def _motion(bpy, armature, frames):
    """{frame: (heads (24, 3), rotations relative to rest (24, 3, 3))} in world space, keyed by SMPL joint name."""
    scene, out = bpy.context.scene, {}
    rest = {b.name: np.array(armature.matrix_world @ b.matrix_local) for b in armature.data.bones}
    for frame in frames:
        scene.frame_set(frame)
        heads, rotations = [], []
        for name in JOINT_NAMES:
            world = np.array(armature.matrix_world @ armature.pose.bones[name].matrix)
            heads.append(world[:3, 3])
            rotations.append(_rotation(world) @ _rotation(rest[name]).T)
        out[frame] = (np.array(heads), np.array(rotations))
    return out


def _rotation(matrix: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(matrix[:3, :3])  # strips any scale the importer put on the armature
    return u @ vt


def _angle_deg(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    cos = (np.trace(a @ np.swapaxes(b, -1, -2), axis1=-2, axis2=-1) - 1) / 2
    return np.degrees(np.arccos(np.clip(cos, -1, 1)))


@pytest.fixture
def exported(bpy_empty, tmp_path):
    from crowdmocap_addon.export.export_bpy import motion_range, people_in
    from crowdmocap_addon.scene.build_bpy import import_result

    take = exact_capture(seed=2, people=PEOPLE, frames=FRAMES)
    # 30 fps: Blender's own FBX importer maps 29.97 fps key times with 30 (see the NTSC test below)
    take.video = replace(take.video, fps=30.0, fps_rational=(30, 1))
    capture = import_result(bpy_empty.context, write(tmp_path, take), align_to_ground=True)
    people = people_in(capture.collection)
    person = people[0]
    start, end = motion_range(person, bpy_empty.context.scene)
    frames = sorted({start, (start + end) // 2, end})
    scene = bpy_empty.context.scene
    return {"people": people, "capture": capture, "frames": frames, "range": (start, end),
            "motion": _motion(bpy_empty, person, frames), "fps": (scene.render.fps, scene.render.fps_base)}  # fmt: skip


def _export(bpy, exported, preset_name, folder, **options):
    from crowdmocap_addon.export.export_bpy import export_people

    return export_people(bpy.context, exported["people"], find_preset(preset_name), folder, capture_name="take",
                         **options)  # fmt: skip


def _reimport(bpy, path, fps=(30, 1.0)):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    scene.render.fps, scene.render.fps_base = fps  # glTF keys are seconds: frames follow the scene's rate
    if path.suffix == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path), anim_offset=0.0)  # the default shifts keys by one frame
    elif path.suffix == ".glb":
        bpy.ops.import_scene.gltf(filepath=str(path))
    else:
        bpy.ops.import_anim.bvh(filepath=str(path), update_scene_fps=True, update_scene_duration=True)
    armatures = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    assert len(armatures) == 1
    return armatures[0]


@pytest.mark.parametrize("preset", ["unity", "unreal", "godot", "bvh"])
def test_each_preset_round_trips_frames_rate_and_world_motion(bpy_empty, exported, tmp_path, preset):
    files = _export(bpy_empty, exported, preset, tmp_path / preset, start_at_origin=False)  # places kept
    assert [f.name for f in files] == [f"{p.name}.{find_preset(preset).format}" for p in exported["people"]]
    armature = _reimport(bpy_empty, files[0])
    scene = bpy_empty.context.scene
    action = armature.animation_data.action
    start, end = exported["range"]
    frames = exported["frames"]
    if preset == "bvh":  # BVH files start at frame 1
        frames = [f - start + 1 for f in frames]
        start, end = 1, end - start + 1
    assert tuple(round(v) for v in action.frame_range) == (start, end)
    assert scene.render.fps / scene.render.fps_base == pytest.approx(exported["fps"][0] / exported["fps"][1], 1e-4)
    got = _motion(bpy_empty, armature, frames)
    for original, copy in zip(exported["frames"], frames, strict=True):
        heads, rotations = exported["motion"][original]
        new_heads, new_rotations = got[copy]
        assert np.abs(new_heads - heads).max() < 1e-3, preset
        assert _angle_deg(new_rotations, rotations).max() < 0.5, preset


@pytest.mark.parametrize("preset", ["unity", "unreal", "godot", "bvh"])
def test_start_at_origin_moves_each_clip_rigidly_to_the_origin_facing_forward(bpy_empty, exported, tmp_path, preset):
    files = _export(bpy_empty, exported, preset, tmp_path / preset)  # the default: start at origin
    armature = _reimport(bpy_empty, files[0])
    start = exported["range"][0]
    frames = [f - start + 1 for f in exported["frames"]] if preset == "bvh" else exported["frames"]
    got = _motion(bpy_empty, armature, frames)
    first_heads, first_rotations = got[frames[0]]
    pelvis = JOINT_NAMES.index("pelvis")
    assert np.abs(first_heads[pelvis, :2]).max() < 1e-3  # the hips start over the origin
    original_first = exported["motion"][exported["frames"][0]][0]
    assert first_heads[pelvis, 2] == pytest.approx(original_first[pelvis, 2], abs=1e-3)  # at their height
    # facing as at rest: the pelvis has turned about Z by nothing relative to its rest
    forward = first_rotations[pelvis] @ np.array([0.0, -1.0, 0.0])
    assert abs(np.degrees(np.arctan2(forward[0], -forward[1]))) < 0.5
    # and the whole clip is one rigid move of the scene's motion: a turn about Z and a shift on the floor
    before = np.concatenate([exported["motion"][f][0] for f in exported["frames"]])
    after = np.concatenate([got[f][0] for f in frames])
    rotation, shift, worst = rigid_fit(before, after)
    assert worst < 1e-3, preset
    assert np.allclose(rotation[2], [0, 0, 1], atol=1e-4) and abs(shift[2]) < 1e-3


def test_one_file_for_the_crowd_and_animation_only(bpy_empty, exported, tmp_path):
    files = _export(bpy_empty, exported, "unity", tmp_path, per_person=False, include_mesh=False)
    assert [f.name for f in files] == ["take_crowd.fbx"]
    bpy_empty.ops.wm.read_factory_settings(use_empty=True)
    bpy_empty.ops.import_scene.fbx(filepath=str(files[0]))
    kinds = sorted(o.type for o in bpy_empty.data.objects)
    assert kinds == ["ARMATURE"] * PEOPLE


def test_export_leaves_the_scene_as_it_was(bpy_empty, exported, tmp_path):
    scene = bpy_empty.context.scene
    hidden_before = {o.name: o.hide_viewport for o in scene.objects}
    selected_before = {o.name for o in scene.objects if o.select_get()}
    range_before, frame_before = (scene.frame_start, scene.frame_end), scene.frame_current
    _export(bpy_empty, exported, "unreal", tmp_path)
    assert {o.name: o.hide_viewport for o in scene.objects} == hidden_before
    assert {o.name for o in scene.objects if o.select_get()} == selected_before
    assert (scene.frame_start, scene.frame_end) == range_before and scene.frame_current == frame_before
    assert all(p.name.startswith("take_Person_") for p in exported["people"])  # the 'root' rename is undone


def test_ntsc_rates_keep_their_timing_in_fbx(bpy_empty, tmp_path):
    """At 29.97 fps the file's key times are right in seconds; Blender's FBX importer then places them on a
    30 fps grid (its own limitation, not the file's), so compare times, not frame numbers."""
    from crowdmocap_addon.export.export_bpy import export_people, motion_range, people_in
    from crowdmocap_addon.scene.build_bpy import import_result

    capture = import_result(bpy_empty.context, write(tmp_path, exact_capture(seed=2, people=1, frames=FRAMES)))
    person = people_in(capture.collection)[0]
    start, end = motion_range(person, bpy_empty.context.scene)
    files = export_people(bpy_empty.context, [person], find_preset("unity"), tmp_path, capture_name="ntsc")
    armature = _reimport(bpy_empty, files[0])
    first, last = armature.animation_data.action.frame_range
    assert first / 30 == pytest.approx(start / (30000 / 1001), abs=1e-3)
    assert last / 30 == pytest.approx(end / (30000 / 1001), abs=1e-3)


def test_per_person_export_restores_everyone_elses_animation(bpy_empty, exported, tmp_path):
    before = {p.name: (p.animation_data.action.name, p.animation_data.action_slot.identifier)
              for p in exported["people"]}  # fmt: skip
    scene = bpy_empty.context.scene
    frame = exported["frames"][1]
    scene.frame_set(frame)
    heads = {p.name: [tuple(b.head) for b in p.pose.bones] for p in exported["people"]}
    _export(bpy_empty, exported, "unity", tmp_path)
    after = {p.name: (p.animation_data.action.name, p.animation_data.action_slot.identifier)
             for p in exported["people"]}  # fmt: skip
    assert after == before
    scene.frame_set(frame)
    assert {p.name: [tuple(b.head) for b in p.pose.bones] for p in exported["people"]} == heads


def test_bvh_of_a_blender_native_rig_with_an_object_transform_re_imports_upright_in_place(bpy_empty, exported,
                                                                                           tmp_path):  # fmt: skip
    """Z-up armature space, turned, moved and scaled as an object (as an imported Mixamo character is)."""
    from mathutils import Matrix

    from crowdmocap_addon.retarget.retarget_bpy import retarget
    from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig

    placed = np.array(Matrix.Translation((2.0, 3.0, 0.5)) @ Matrix.Rotation(0.5, 4, "Z") @ Matrix.Scale(1.1, 4))
    rig = build_armature(bpy_empty, replace(mixamo_rig(), object_matrix=placed))
    person = exported["people"][0]
    (character,) = retarget(bpy_empty.context, [person], rig, per_person=False).targets
    names = [b.name for b in character.data.bones]
    frames = exported["frames"]
    scene = bpy_empty.context.scene
    before = {}
    for frame in frames:
        scene.frame_set(frame)
        before[frame] = np.array([np.array(character.matrix_world @ character.pose.bones[n].head) for n in names])
    (path,) = _export(bpy_empty, {**exported, "people": [character]}, "bvh", tmp_path, start_at_origin=False)
    armature = _reimport(bpy_empty, path)
    start = exported["range"][0]
    scene = bpy_empty.context.scene
    for frame in frames:
        scene.frame_set(frame - start + 1)
        after = np.array([np.array(armature.matrix_world @ armature.pose.bones[n].head) for n in names])
        assert np.abs(after - before[frame]).max() < 1e-3  # upright, in place, at its size


def test_bvh_refuses_a_squashed_rig_and_leaves_nothing_behind(bpy_empty, exported, tmp_path):
    from crowdmocap_addon.export.presets import BvhExportError
    from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig

    rig = build_armature(bpy_empty, replace(mixamo_rig(), object_matrix=np.diag([1.0, 1.0, 2.0, 1.0])))
    objects = len(bpy_empty.data.objects)
    with pytest.raises(BvhExportError, match=r"'MixamoLike' has a non-uniform object scale"):
        _export(bpy_empty, {**exported, "people": [rig]}, "bvh", tmp_path)
    assert len(bpy_empty.data.objects) == objects and not list(tmp_path.glob("*.bvh"))
