"""In real Blender: what an import creates, how it is named, keyed and timed."""

from dataclasses import replace

import numpy as np
import pytest

from crowdmocap_addon.core.joints import JOINT_NAMES, PARENTS
from crowdmocap_addon.scene.build_bpy import import_result
from crowdmocap_addon.scene.keyframes import CUSTOM_PROPERTIES
from tests.conftest import REPO
from tests.crowdmocap_addon.scene.scenes import exact_capture, write

pytestmark = pytest.mark.blender


@pytest.fixture
def imported(bpy_empty, tmp_path):
    capture = exact_capture(seed=2, people=3, frames=8)
    person = capture.people[1]
    person.quality = (np.arange(person.num_frames) % 3).astype(np.uint8)  # observed, filled, repaired, ...
    return capture, import_result(bpy_empty.context, write(tmp_path, capture))


def _fcurves(bpy, obj):
    """The F-curves of the object's slot in its action's (single) keyframe strip."""
    animation = obj.animation_data
    strip = animation.action.layers[0].strips[0]
    return strip.channelbag(animation.action_slot).fcurves


def test_one_collection_with_a_named_rig_and_body_per_person_and_a_camera(bpy_empty, imported):
    capture, scene_capture = imported
    collection = bpy_empty.data.collections["CrowdMocap_take"]
    assert collection.name in bpy_empty.context.scene.collection.children
    names = {obj.name for obj in collection.objects}
    expected = {f"take_Person_{n:03d}" for n in range(1, len(capture.people) + 1)}
    assert names == expected | {f"{n}_body" for n in expected} | {"CrowdMocap_take_camera"}
    assert bpy_empty.context.scene.camera == scene_capture.camera
    for track, armature, body in zip(capture.people, scene_capture.armatures, scene_capture.bodies, strict=True):
        assert armature.type == "ARMATURE"
        assert armature["crowdmocap_person_id"] == track.id
        assert sorted(bone.name for bone in armature.data.bones) == sorted(JOINT_NAMES)  # Blender orders by tree
        assert body.parent == armature
        assert body.modifiers["Armature"].object == armature
        assert {group.name for group in body.vertex_groups} == set(JOINT_NAMES)


def test_rest_skeleton_is_the_persons_rest_joints_with_identity_bone_rotations(imported):
    capture, scene_capture = imported
    for track, armature in zip(capture.people, scene_capture.armatures, strict=True):
        for joint, name in enumerate(JOINT_NAMES):
            bone = armature.data.bones[name]
            matrix = np.array(bone.matrix_local)
            np.testing.assert_allclose(matrix[:3, 3], track.rest_joints[joint], atol=1e-6)
            np.testing.assert_allclose(matrix[:3, :3], np.eye(3), atol=1e-6)
            parent = PARENTS[joint]
            assert (bone.parent.name if bone.parent else None) == (JOINT_NAMES[parent] if parent >= 0 else None)
            assert armature.pose.bones[name].rotation_mode == "QUATERNION"


def test_one_layered_action_per_person_keys_every_bone_every_frame(bpy_empty, imported):
    capture, scene_capture = imported
    assert len({a.name for a in scene_capture.actions}) == len(capture.people)
    for track, armature, body in zip(capture.people, scene_capture.armatures, scene_capture.bodies, strict=True):
        action = armature.animation_data.action
        assert body.animation_data.action == action
        assert armature.animation_data.action_slot != body.animation_data.action_slot
        curves = _fcurves(bpy_empty, armature)
        quats = [c for c in curves if c.data_path.endswith("rotation_quaternion")]
        assert len(quats) == 24 * 4
        assert len([c for c in curves if c.data_path == 'pose.bones["pelvis"].location']) == 3
        for curve in quats:
            frames = np.array([k.co[0] for k in curve.keyframe_points])
            np.testing.assert_array_equal(frames, track.frames + 1)
            assert {k.interpolation for k in curve.keyframe_points} == {"LINEAR"}


def test_custom_property_curves_carry_confidence_and_foot_contact(bpy_empty, imported):
    capture, scene_capture = imported
    scene = bpy_empty.context.scene
    track, armature = capture.people[1], scene_capture.armatures[1]
    curves = {c.data_path: c for c in _fcurves(bpy_empty, armature)}
    assert {f'["{name}"]' for name in CUSTOM_PROPERTIES} <= set(curves)
    for index in (0, 3, len(track.frames) - 1):
        scene.frame_set(int(track.frames[index]) + 1)
        assert armature["crowdmocap_confidence"] == pytest.approx(track.confidence[index], abs=1e-6)
        assert armature["crowdmocap_contact_left"] == pytest.approx(track.foot_contact[index, 0], abs=1e-6)
        assert armature["crowdmocap_contact_right"] == pytest.approx(track.foot_contact[index, 1], abs=1e-6)
        assert armature["crowdmocap_quality"] == track.frame_quality[index] == index % 3


def test_people_are_visible_only_over_their_frames(bpy_empty, imported):
    capture, scene_capture = imported
    scene = bpy_empty.context.scene
    for track, armature, body in zip(capture.people, scene_capture.armatures, scene_capture.bodies, strict=True):
        first, last = int(track.frames[0]) + 1, int(track.frames[-1]) + 1
        for frame, hidden in ((first - 1, True), (first, False), (last, False), (last + 1, True), (last + 5, True)):
            scene.frame_set(frame)
            for obj in (armature, body):
                assert (obj.hide_viewport, obj.hide_render) == (hidden, hidden), (obj.name, frame)


def test_scene_runs_at_the_clips_exact_rate_over_the_capture(bpy_empty, imported):
    capture, _ = imported
    scene = bpy_empty.context.scene
    assert (scene.render.fps, scene.render.fps_base) == (30000, 1001.0)
    assert scene.frame_start == min(int(t.frames[0]) for t in capture.people) + 1
    assert scene.frame_end == max(int(t.frames[-1]) for t in capture.people) + 1


def test_existing_footage_becomes_the_camera_background(bpy_empty, tmp_path):
    capture = exact_capture(seed=2, people=1, frames=4)
    video = REPO / "tests" / "data" / "vtest_first10s.avi"
    capture.video = replace(capture.video, path=str(video))
    scene_capture = import_result(bpy_empty.context, write(tmp_path, capture))
    camera = scene_capture.camera.data
    assert camera.show_background_images
    assert len(camera.background_images) == 1
    background = camera.background_images[0]
    assert background.source == "MOVIE_CLIP"
    assert bpy_empty.path.abspath(background.clip.filepath) == str(video)
    assert background.clip.frame_start == 1


def test_the_footage_the_user_picked_wins_over_the_servers_copy(bpy_empty, tmp_path):
    """A server writes its private copy of the upload as video.path; the camera shows the user's own file."""
    capture = exact_capture(seed=2, people=1, frames=4)
    video = REPO / "tests" / "data" / "vtest_first10s.avi"
    capture.video = replace(capture.video, path="/srv/crowdmocap/uploads/3f2a/footage.avi")
    reports = []
    scene_capture = import_result(bpy_empty.context, write(tmp_path, capture), footage=video,
                                  report=lambda level, message: reports.append((level, message)))  # fmt: skip
    assert bpy_empty.path.abspath(scene_capture.camera.data.background_images[0].clip.filepath) == str(video)
    assert scene_capture.collection["crowdmocap_footage"] == str(video)
    assert not reports
    gone = tmp_path / "moved_away.mp4"
    again = import_result(bpy_empty.context, write(tmp_path, capture), footage=gone,
                          report=lambda level, message: reports.append((level, message)))  # fmt: skip
    assert again.footage is None and again.collection["crowdmocap_footage"] == ""
    assert any(level == "WARNING" and "moved_away.mp4" in message for level, message in reports)


def test_missing_footage_means_no_background_and_no_error(bpy_empty, imported):
    _, scene_capture = imported
    assert scene_capture.footage is None
    assert len(scene_capture.camera.data.background_images) == 0
    assert len(bpy_empty.data.movieclips) == 0


def test_unreadable_footage_is_a_warning_and_leaves_no_clip(bpy_empty, tmp_path):
    capture = exact_capture(seed=2, people=1, frames=4)
    (tmp_path / "clip.mp4").write_text("not a video")
    capture.video = replace(capture.video, path="clip.mp4")
    reports = []
    scene_capture = import_result(
        bpy_empty.context, write(tmp_path, capture), report=lambda level, message: reports.append((level, message))
    )
    assert scene_capture.footage is None
    assert len(scene_capture.camera.data.background_images) == 0
    assert len(bpy_empty.data.movieclips) == 0
    assert any(level == "WARNING" and "clip.mp4" in message for level, message in reports)


def test_a_result_without_people_gives_the_camera_and_the_clips_range(bpy_empty, tmp_path):
    capture = exact_capture(seed=2, people=1, frames=4)
    capture.people = []
    scene_capture = import_result(bpy_empty.context, write(tmp_path, capture))
    assert scene_capture.armatures == []
    assert [obj.name for obj in scene_capture.collection.objects] == ["CrowdMocap_take_camera"]
    scene = bpy_empty.context.scene
    assert (scene.frame_start, scene.frame_end) == (1, capture.video.frame_count)
