"""In real Blender: the People list's record, and its edits through the registered operators.

The capture holds one person the "tracker" split in two (the same motion, hidden for 8 frames between
its fragments), so a merge has an exact answer: the world-space pelvis of the merged person on every
frame of both fragments is where the result put it.
"""

from dataclasses import replace

import numpy as np
import pytest

from crowdmocap_addon.core.result.schema import QUALITY_FILLED, QUALITY_REPAIRED
from crowdmocap_addon.scene.record import CAPTURE_LABEL, PERSON_NUMBER, PERSON_TRACKS, stored_summary
from tests.crowdmocap_addon.scene.scenes import datablock_counts, exact_capture, posed_heads, write

pytestmark = pytest.mark.blender
MODULE = "crowdmocap_addon"
GAP = 8


def _fragment(track, keep, person_id, rest_shift=0.0):
    names = ("frames", "global_orient", "body_pose", "transl", "keypoints2d", "bbox", "confidence", "foot_contact")
    arrays = {name: getattr(track, name)[keep] for name in names}
    return replace(track, id=person_id, rest_joints=track.rest_joints + rest_shift, quality=None, **arrays)


def split_capture():
    """Three people; the first (ids 21 and 22 in the result) hidden between two fragments."""
    capture = exact_capture(seed=3, people=3, frames=30)
    whole = capture.people[0]
    frames = whole.frames
    cut = frames[0] + 10
    first = _fragment(whole, frames < cut, 21)
    second = _fragment(whole, frames >= cut + GAP, 22, rest_shift=0.004)  # a re-estimated skeleton
    capture.people = [first, second, *capture.people[1:]]
    return capture


@pytest.fixture
def addon(bpy_empty):
    import addon_utils

    addon_utils.enable(MODULE, default_set=True)
    yield bpy_empty
    addon_utils.disable(MODULE, default_set=True)


@pytest.fixture
def crowd(addon, tmp_path):
    from crowdmocap_addon.scene.build_bpy import import_result

    capture = split_capture()
    imported = import_result(addon.context, write(tmp_path, capture, "take.npz"))
    addon.ops.ed.undo_push(message="import")
    return capture, imported


def _person(bpy, result_id):
    return next(o for o in bpy.data.objects if o.get(PERSON_TRACKS) == str(result_id))


def _world_pelvis(bpy, armature, frames):
    return np.array([posed_heads(bpy.context.scene, armature, int(f) + 1)[0] for f in frames])


def _quality(armature, frame):
    from crowdmocap_addon.people.record_bpy import read_motion

    motion = read_motion(armature)
    return int(motion.quality[list(motion.frames).index(frame)])


def test_two_captures_of_one_clip_get_unique_readable_names_numbered_by_appearance(addon, tmp_path):
    from crowdmocap_addon.scene.build_bpy import import_result

    capture = split_capture()
    path = write(tmp_path, capture, "take.npz")
    first = import_result(addon.context, path)
    second = import_result(addon.context, path)
    assert (first.label, second.label) == ("take", "take_2")
    assert second.collection.name == "CrowdMocap_take_2" and second.collection[CAPTURE_LABEL] == "take_2"
    names = sorted(o.name for o in addon.data.objects)
    assert not any("." in name for name in names)  # no Blender .001 suffixes anywhere
    order = sorted(capture.people, key=lambda t: (t.frames[0], t.id))
    for number, track in enumerate(order, start=1):
        armature = addon.data.objects[f"take_2_Person_{number:03d}"]
        assert armature[PERSON_NUMBER] == number and armature[PERSON_TRACKS] == str(track.id)
        assert armature.animation_data.action.name == f"take_2_Person_{number:03d}_action"
    colours = {tuple(round(c, 3) for c in o.color) for o in second.bodies}
    assert len(colours) == len(capture.people)  # one colour each
    body = second.bodies[0]
    assert body.data.materials[0].name == f"{body.parent.name}_material"
    assert tuple(body.data.materials[0].diffuse_color) == pytest.approx(tuple(body.color))


def test_each_person_carries_their_people_list_row(crowd, bpy_empty):
    capture, imported = crowd
    for track, armature in zip(capture.people, imported.armatures, strict=True):
        summary = stored_summary(armature)
        assert (summary.first, summary.last) == (track.frames[0] + 1, track.frames[-1] + 1)
        assert summary.frames == track.num_frames
        observed = track.confidence > 0
        assert summary.observed_share == pytest.approx(observed.mean())
        assert summary.mean_confidence == pytest.approx(track.confidence[observed].mean(), abs=1e-6)


def test_merging_the_fragments_makes_one_person_who_stays_on_the_result(crowd, bpy_empty):
    capture, _ = crowd
    before = datablock_counts(bpy_empty)
    first, second = _person(bpy_empty, 21), _person(bpy_empty, 22)
    expected = _world_pelvis(bpy_empty, first, capture.people[0].frames)
    expected_later = _world_pelvis(bpy_empty, second, capture.people[1].frames)
    kept_name = first.name
    assert bpy_empty.ops.crowdmocap.people_merge(first=second.name, second=first.name) == {"FINISHED"}
    merged = bpy_empty.data.objects[kept_name]
    assert _person(bpy_empty, "21+22") == merged
    assert not any(o.get(PERSON_TRACKS) == "22" for o in bpy_empty.data.objects)
    after = datablock_counts(bpy_empty)
    for kind in ("objects",):
        assert after[kind] == before[kind] - 2  # the second armature and body are gone
    assert after["actions"] == before["actions"] - 1 and after["armatures"] == before["armatures"] - 1
    np.testing.assert_allclose(_world_pelvis(bpy_empty, merged, capture.people[0].frames), expected, atol=1e-4)
    np.testing.assert_allclose(_world_pelvis(bpy_empty, merged, capture.people[1].frames), expected_later, atol=1e-4)
    gap = range(int(capture.people[0].frames[-1]) + 2, int(capture.people[1].frames[0]) + 1)
    assert len(gap) == GAP and all(_quality(merged, f) == QUALITY_FILLED for f in gap)
    summary = stored_summary(merged)
    assert summary.frames == capture.people[0].num_frames + GAP + capture.people[1].num_frames
    # The pelvis moves on smoothly through the bridge: no step bigger than the walk's own.
    path = _world_pelvis(bpy_empty, merged, np.arange(summary.first, summary.last + 1) - 1)
    steps = np.linalg.norm(np.diff(path, axis=0), axis=1)
    assert steps.max() < 3 * np.median(steps) + 1e-3
    # The scene's record is what retargeting and export read: one person fewer.
    from crowdmocap_addon.export.export_bpy import people_in

    assert len(people_in(bpy_empty.data.collections["CrowdMocap_take"])) == len(capture.people) - 1
    # One undo step puts both fragments back. (Headless Blender pushes no undo step after an operator, as
    # the UI does for every operator marked UNDO: the test pushes it.)
    bpy_empty.ops.ed.undo_push(message="Merge People")
    bpy_empty.ops.ed.undo()
    assert {o.get(PERSON_TRACKS) for o in bpy_empty.data.objects if PERSON_TRACKS in o} == {"21", "22", "4", "7"}


def test_a_refused_merge_changes_nothing(crowd, bpy_empty):
    _, imported = crowd
    before = datablock_counts(bpy_empty)
    together = [o for o in imported.armatures if o.get(PERSON_TRACKS) in ("4", "7")]  # seen at the same time
    with pytest.raises(RuntimeError, match="both seen on frames"):  # an operator's error report, from Python
        bpy_empty.ops.crowdmocap.people_merge(first=together[0].name, second=together[1].name)
    assert datablock_counts(bpy_empty) == before
    assert all(o.animation_data.action.name == f"{o.name}_action" for o in together)


def test_split_at_the_playhead_gives_a_new_numbered_person_with_the_rest(crowd, bpy_empty):
    capture, _ = crowd
    person = _person(bpy_empty, 4)
    track = next(t for t in capture.people if t.id == 4)
    frame = int(track.frames[5]) + 1
    expected = _world_pelvis(bpy_empty, person, track.frames)
    bpy_empty.context.scene.frame_set(frame)
    assert bpy_empty.ops.crowdmocap.person_split(person=person.name) == {"FINISHED"}  # at the playhead
    twin = bpy_empty.data.objects[f"take_Person_{len(capture.people) + 1:03d}"]
    assert stored_summary(person).last == frame - 1 and stored_summary(twin).first == frame
    assert stored_summary(twin).last == track.frames[-1] + 1
    np.testing.assert_allclose(_world_pelvis(bpy_empty, person, track.frames[:5]), expected[:5], atol=1e-5)
    np.testing.assert_allclose(_world_pelvis(bpy_empty, twin, track.frames[5:]), expected[5:], atol=1e-5)
    twin_body = bpy_empty.data.objects[f"{twin.name}_body"]
    assert twin_body.parent == twin and twin_body.modifiers["Armature"].object == twin
    assert twin_body.animation_data.action == twin.animation_data.action
    assert tuple(twin_body.color) != tuple(bpy_empty.data.objects[f"{person.name}_body"].color)
    bpy_empty.context.scene.frame_set(frame - 1)  # each is shown only on their own frames
    assert not person.hide_viewport and twin.hide_viewport
    bpy_empty.context.scene.frame_set(frame)
    assert person.hide_viewport and not twin.hide_viewport


def test_delete_rename_isolate_and_show_all(crowd, bpy_empty):
    _, imported = crowd
    ops = bpy_empty.ops.crowdmocap
    victim = imported.armatures[1].name
    assert ops.person_delete(person=victim) == {"FINISHED"}
    assert victim not in bpy_empty.data.objects and f"{victim}_body" not in bpy_empty.data.objects
    assert f"{victim}_action" not in bpy_empty.data.actions and f"{victim}_material" not in bpy_empty.data.materials
    person = imported.armatures[0]
    assert ops.person_rename(person=person.name, name="Lady in red") == {"FINISHED"}
    assert bpy_empty.data.objects["Lady in red_body"].parent == person
    assert person.animation_data.action.name == "Lady in red_action"
    taken = imported.armatures[2].name
    with pytest.raises(RuntimeError, match="is taken"):  # names stay unique
        ops.person_rename(person=taken, name="Lady in red")
    assert ops.person_isolate(person=person.name) == {"FINISHED"}
    shown = {o.name for o in bpy_empty.context.view_layer.objects if not o.hide_get()}
    assert {"Lady in red", "Lady in red_body"} <= shown and taken not in shown
    assert ops.people_show_all() == {"FINISHED"}
    assert not any(o.hide_get() for o in bpy_empty.context.view_layer.objects)


def test_clicking_a_row_goes_to_the_person_and_marks_their_flagged_frames(crowd, bpy_empty):
    from crowdmocap_addon.people.edit_bpy import MARKER_PREFIX

    _, imported = crowd
    bpy_empty.ops.crowdmocap.people_merge(first=_person(bpy_empty, 21).name, second=_person(bpy_empty, 22).name)
    merged = _person(bpy_empty, "21+22")
    scene = bpy_empty.context.scene
    capture = bpy_empty.data.collections["CrowdMocap_take"]
    scene.crowdmocap_people.active_index = list(capture.objects).index(merged)
    summary = stored_summary(merged)
    assert scene.frame_current == summary.first
    assert bpy_empty.context.view_layer.objects.active == merged and merged.select_get()
    markers = [m for m in scene.timeline_markers if m.name.startswith(MARKER_PREFIX)]
    bridge = [m for m in markers if m.name == f"{MARKER_PREFIX}filled {GAP}"]
    assert len(bridge) == 1
    assert bpy_empty.ops.crowdmocap.person_jump_flag() == {"FINISHED"}
    assert scene.frame_current == min(m.frame for m in markers if m.frame > summary.first)
    scene.frame_set(bridge[0].frame)
    earlier = [m.frame for m in markers if m.frame < bridge[0].frame]
    if earlier:
        assert bpy_empty.ops.crowdmocap.person_jump_flag(previous=True) == {"FINISHED"}
        assert scene.frame_current == max(earlier)
    else:
        with pytest.raises(RuntimeError, match="no flagged frame before"):
            bpy_empty.ops.crowdmocap.person_jump_flag(previous=True)
    other = imported.armatures[-1]
    scene.crowdmocap_people.active_index = list(capture.objects).index(other)  # markers follow the row
    assert all(not m.name.endswith(f"filled {GAP}") for m in scene.timeline_markers)


def test_repaired_frames_from_the_result_are_flagged(addon, tmp_path):
    from crowdmocap_addon.scene.build_bpy import import_result

    capture = exact_capture(seed=5, people=1, frames=12)
    track = capture.people[0]
    track.quality = np.zeros(track.num_frames, np.uint8)
    track.quality[4:6] = QUALITY_REPAIRED
    armature = import_result(addon.context, write(tmp_path, capture)).armatures[0]
    assert stored_summary(armature).flagged >= 2
    assert _quality(armature, int(track.frames[4]) + 1) == QUALITY_REPAIRED


def test_the_list_shows_only_people_sorted_and_filtered(addon, tmp_path):
    """Lists only draw in a window; headless, its filter_items is called as Blender calls it."""
    from crowdmocap_addon.scene.build_bpy import import_result

    imported = import_result(addon.context, write(tmp_path, split_capture(), "take.npz"))
    capture = imported.collection
    for sort_by in ("NUMBER", "FLAGGED", "CONFIDENCE", "OBSERVED"):
        shown, order = _filter(capture, sort_by=sort_by)
        people = [obj for obj, flag in zip(capture.objects, shown, strict=True) if flag]
        assert sorted(p.name for p in people) == sorted(a.name for a in imported.armatures)
        ranked = sorted(people, key=lambda p: order[list(capture.objects).index(p)])
        if sort_by == "NUMBER":
            assert [p[PERSON_NUMBER] for p in ranked] == list(range(1, len(people) + 1))
        if sort_by == "CONFIDENCE":
            values = [stored_summary(p).mean_confidence for p in ranked]
            assert values == sorted(values)
    shown, _ = _filter(capture, filter_name="person_002")
    assert [o.name for o, flag in zip(capture.objects, shown, strict=True) if flag] == ["take_Person_002"]


class _ListOptions:
    bitflag_filter_item = 1 << 30

    def __init__(self, sort_by="NUMBER", filter_name="", only_flagged=False):
        self.sort_by, self.filter_name, self.only_flagged = sort_by, filter_name, only_flagged


def _filter(capture, **options):
    from crowdmocap_addon.people.panel_bpy import CROWDMOCAP_UL_people

    return CROWDMOCAP_UL_people.filter_items(_ListOptions(**options), None, capture, "objects")
