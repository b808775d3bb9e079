"""The animator's workbench end to end on the shared street clip, as an animator drives it in Blender.

Capture (the real pipeline on the clip, the 2D stage replayed from its recording) -> import -> merge the
two fragments of one person (found with the clip's hand-made ground truth) -> delete the worst person ->
retarget onto the Mixamo-named and UE5-named test rigs -> export Unity FBX, Unreal FBX, glTF and BVH,
each clip starting at the origin -> re-import every file into an empty scene and compare its bones' world
positions with the scene's: the same motion, moved by one turn about the vertical and one shift along the
floor (docs/export.md), within 1 mm.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.people.motion import MAX_HANDOVER_FRAMES
from tests.conftest import REPO
from tests.helpers.rigid import rigid_fit

pytestmark = [pytest.mark.slow, pytest.mark.blender]
MODULE = "crowdmocap_addon"
TRUTH = REPO / "tests" / "data" / "ground_truth" / "vtest_first10s.json"
PRESETS = ("unity", "unreal", "godot", "bvh")


_CAPTURE = """
import sys
from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.run import run_capture
from tests.helpers.recorded_poses import RecordedPoses
from tests.helpers.street import STREET, street_recording
from crowdmocap_addon.core.result.reader import read_result
from tests.crowdmocap_addon.test_workbench import fragments
run_capture(STREET, sys.argv[1], CaptureOptions(), pose_backend_factory=lambda plan: RecordedPoses(street_recording()))
print("FRAGMENTS", *fragments(read_result(sys.argv[1])))
"""


@pytest.fixture(scope="module")
def capture(tmp_path_factory) -> tuple[Path, tuple[int, int]]:
    """The street clip captured by the real pipeline, and the two fragments of one person in it; run in the
    project's main environment (.venv): this Python may be Blender 5's, with the add-on's packages only."""
    out = tmp_path_factory.mktemp("workbench") / "street.npz"
    python = REPO / ".venv" / "bin" / "python"
    if not python.exists():
        pytest.skip("no .venv with the server's packages (make setup creates it)")
    done = subprocess.run([str(python), "-c", _CAPTURE, str(out)], cwd=REPO, capture_output=True, text=True,
                          check=False, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    earlier, later = done.stdout.split("FRAGMENTS", 1)[1].split()[:2]
    return out, (int(earlier), int(later))


def _owners(result) -> dict[int, int]:
    """Result person id -> the ground-truth identity their observed boxes match most often."""
    from inference_server.tracking.evaluation import Prediction, load_ground_truth, match_frame

    votes: dict[int, Counter] = {}
    for frame, truth in load_ground_truth(TRUTH).frames.items():
        predictions = []
        for person in result.people:
            at = np.flatnonzero((person.frames == frame) & (person.confidence > 0))
            if len(at):
                predictions.append(Prediction(box=person.bbox[at[0]], track_id=int(person.id)))
        for t, p in match_frame(frame, truth, predictions, iou=0.3).pairs:
            votes.setdefault(predictions[p].track_id, Counter())[truth[t].id] += 1
    return {track: counter.most_common(1)[0][0] for track, counter in votes.items()}


def fragments(result) -> tuple[int, int]:
    """Two result people that are one annotated person, one after the other (at most a hand-over apart)."""
    owners = _owners(result)
    people = sorted(result.people, key=lambda p: int(p.frames[0]))
    for index, first in enumerate(people):
        for second in people[index + 1 :]:
            same = owners.get(int(first.id)) is not None and owners.get(int(first.id)) == owners.get(int(second.id))
            shared = np.intersect1d(first.frames, second.frames)
            ordered = first.frames[0] < second.frames[0] and first.frames[-1] < second.frames[-1]
            if same and ordered and len(shared) <= MAX_HANDOVER_FRAMES:
                return int(first.id), int(second.id)
    raise AssertionError(f"no fragmented person on the street clip any more (owners {owners}): pick another clip")


def _select(bpy, objects, active) -> None:
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj in objects)
    bpy.context.view_layer.objects.active = active


def _heads(bpy, armature, frames) -> dict[str, np.ndarray]:
    """Bone name -> (F, 3) world-space heads at the scene frames."""
    out: dict[str, list] = {bone.name: [] for bone in armature.pose.bones}
    for frame in frames:
        bpy.context.scene.frame_set(int(frame))
        for bone in armature.pose.bones:
            out[bone.name].append(np.array(armature.matrix_world @ bone.head))
    return {name: np.array(values) for name, values in out.items()}


def _reimport(bpy, path: Path, fps: tuple[int, float]):
    bpy.ops.wm.read_factory_settings(use_empty=True)
    bpy.context.scene.render.fps, bpy.context.scene.render.fps_base = fps
    if path.suffix == ".fbx":
        bpy.ops.import_scene.fbx(filepath=str(path), anim_offset=0.0)  # docs/export.md: no one-frame shift
    elif path.suffix == ".glb":
        bpy.ops.import_scene.gltf(filepath=str(path))
    else:
        bpy.ops.import_anim.bvh(filepath=str(path), update_scene_fps=True, update_scene_duration=True)
    (armature,) = [o for o in bpy.data.objects if o.type == "ARMATURE"]
    return armature


def test_capture_clean_up_retarget_and_export_a_crowd_for_three_engines(bpy_empty, capture, tmp_path):
    import addon_utils

    from crowdmocap_addon.export.export_bpy import motion_range
    from crowdmocap_addon.export.origin_bpy import hips_bone
    from crowdmocap_addon.scene.record import PERSON_ID, PERSON_TRACKS, RETARGET_SOURCE, stored_summary
    from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig, ue5_rig

    bpy = bpy_empty
    result_path, (earlier, later) = capture
    result = read_result(result_path)
    addon_utils.enable(MODULE, default_set=True)
    try:
        assert bpy.ops.import_scene.crowdmocap_result(filepath=str(result_path)) == {"FINISHED"}
        people = {int(o[PERSON_ID]): o for o in bpy.data.objects if o.type == "ARMATURE" and PERSON_ID in o}
        assert len(people) == len(result.people)

        # merge the two fragments of one person: one armature, one action, covering both
        kept_name, gone_name = people[earlier].name, people[later].name
        assert bpy.ops.crowdmocap.people_merge(first=kept_name, second=gone_name) == {"FINISHED"}
        merged = bpy.data.objects[kept_name]
        assert merged[PERSON_TRACKS] == f"{earlier}+{later}" and gone_name not in bpy.data.objects
        summary = stored_summary(merged)
        by_id = {int(p.id): p for p in result.people}
        assert (summary.first, summary.last) == (by_id[earlier].frames[0] + 1, by_id[later].frames[-1] + 1)

        # delete the person the list ranks worst (most flagged frames for their length)
        rest = [o for o in bpy.data.objects if o.type == "ARMATURE" and PERSON_ID in o and o is not merged]
        worst = max(rest, key=lambda o: stored_summary(o).flagged / stored_summary(o).frames)
        worst_name, worst_body = worst.name, f"{worst.name}_body"
        assert bpy.ops.crowdmocap.person_delete(person=worst_name) == {"FINISHED"}
        assert worst_name not in bpy.data.objects and worst_body not in bpy.data.objects

        # retarget the merged person and the longest other one onto both rigs, a character each
        others = [o for o in bpy.data.objects if o.type == "ARMATURE" and PERSON_ID in o and o is not merged]
        second = max(others, key=lambda o: stored_summary(o).frames)
        both = max(stored_summary(merged).first, stored_summary(second).first)
        assert both <= min(stored_summary(merged).last, stored_summary(second).last)
        bpy.context.scene.frame_set(both)  # people are hidden outside their frames, and hidden ones cannot be selected
        for spec in (mixamo_rig(), ue5_rig()):
            rig = build_armature(bpy, spec)
            _select(bpy, [merged, second, rig], rig)
            assert bpy.ops.crowdmocap.retarget(people="SELECTED", duplicate_per_person=True) == {"FINISHED"}
        characters = sorted((o for o in bpy.data.objects if RETARGET_SOURCE in o), key=lambda o: o.name)
        assert {o[RETARGET_SOURCE] for o in characters} == {merged.name, second.name} and len(characters) == 4

        scene = bpy.context.scene
        fps = (scene.render.fps, scene.render.fps_base)
        expected = {}
        for character in characters:
            start, end = motion_range(character, scene)
            frames = np.unique(np.linspace(start, end, 6).round().astype(int))
            hips = hips_bone(character)  # the body moves with it; a rig's own root (UE5) stays where it is
            body = {hips.name, *(bone.name for bone in hips.children_recursive)}
            expected[character.name] = (start, frames, _heads(bpy, character, frames), body, hips.name)
        for preset in PRESETS:  # the default scope: the four characters, not the people nor the template rigs
            folder = tmp_path / preset
            folder.mkdir()
            done = bpy.ops.crowdmocap.export_crowd(filepath=f"{folder}/", preset=preset, per_person=True)
            assert done == {"FINISHED"}
    finally:
        addon_utils.disable(MODULE, default_set=True)

    for preset in PRESETS:
        files = sorted((tmp_path / preset).iterdir())
        assert [f.stem for f in files] == [c for c in sorted(expected)], preset
        for path in files:
            start, frames, before, body, hips = expected[path.stem]
            armature = _reimport(bpy, path, fps)
            shown = frames - start + 1 if preset == "bvh" else frames  # BVH files start at frame 1
            after = _heads(bpy, armature, shown)
            common = sorted(body & set(after))
            assert len(common) >= 22, (preset, path.name)  # every mapped bone came through
            a = np.concatenate([before[name] for name in common])
            b = np.concatenate([after[name] for name in common])
            rotation, shift, residual = rigid_fit(a, b)
            assert residual < 1e-3, (preset, path.name, residual)  # the same motion, within 1 mm
            assert np.allclose(rotation[2], [0, 0, 1], atol=1e-4) and abs(shift[2]) < 1e-3  # turned about Z only
            assert np.abs(after[hips][0, :2]).max() < 1e-3, (preset, path.name)  # starting over the origin
