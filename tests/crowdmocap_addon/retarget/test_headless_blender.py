"""``crowdmocap-blender retarget``: a scene and a rig file (.blend or .fbx) in, a retargeted .blend out."""

import subprocess
import sys

import pytest

from tests.crowdmocap_addon.retarget.blender_scenes import import_people, keyed_bones, sample_frames, segment_errors
from tests.crowdmocap_addon.retarget.motion import stepping_capture
from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig, ue5_rig, unknown_rig

pytestmark = pytest.mark.blender


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "crowdmocap_addon.headless", *map(str, args)],
        capture_output=True, text=True, check=False, timeout=300,
    )  # fmt: skip


@pytest.fixture
def scene_file(bpy_empty, tmp_path):
    """A .blend with three imported people (written as a copy: this process keeps its own file)."""
    import_people(bpy_empty, tmp_path, stepping_capture(seed=9, people=3, frames=12))
    path = tmp_path / "crowd.blend"
    bpy_empty.ops.wm.save_as_mainfile(filepath=str(path), copy=True)
    return path


def _rig_blend(bpy, spec, path):
    """A .blend holding only the rig (and a decoy mesh that must not come along)."""
    rig = build_armature(bpy, spec)
    decoy = bpy.data.objects.new("Decoy", bpy.data.meshes.new("Decoy"))
    bpy.data.libraries.write(str(path), {rig, decoy})
    bpy.data.batch_remove([rig, decoy])
    return path


def test_retarget_per_person_onto_a_blend_rig_writes_a_scene_with_every_copy_animated(bpy_empty, tmp_path, scene_file):
    rig_file = _rig_blend(bpy_empty, ue5_rig(), tmp_path / "mannequin.blend")
    out = tmp_path / "out" / "retargeted.blend"
    done = _cli("retarget", scene_file, "--rig", rig_file, "--no-foot-pin", "-o", out)  # a copy per person: the default
    assert done.returncode == 0, done.stderr
    assert "3 retargeted onto 'UE5Like' with bone map 'Unreal Engine 5 Mannequin'" in done.stdout
    bpy_empty.ops.wm.open_mainfile(filepath=str(out))
    people = sorted(obj.name for obj in bpy_empty.data.objects if "crowdmocap_person_id" in obj)
    assert [f"{name}_UE5Like" in bpy_empty.data.objects for name in people] == [True] * 3
    assert "Decoy" not in bpy_empty.data.objects
    for name in people:
        person, copy = bpy_empty.data.objects[name], bpy_empty.data.objects[f"{name}_UE5Like"]
        assert keyed_bones(copy) == set(ue5_rig().bone_map().values())
        worst = segment_errors(bpy_empty, person, copy, ue5_rig().bone_map(), sample_frames(person, 2))
        assert max(worst.values()) < 2.0


def test_retarget_one_person_onto_an_fbx_rig(bpy_empty, tmp_path, scene_file):
    build_armature(bpy_empty, mixamo_rig())  # selected and active: what the FBX export writes
    rig_file = tmp_path / "character.fbx"
    bpy_empty.ops.export_scene.fbx(filepath=str(rig_file), use_selection=True, object_types={"ARMATURE"},
                                   add_leaf_bones=False, bake_anim=False)  # fmt: skip
    out = tmp_path / "one.blend"
    done = _cli("retarget", scene_file, "--rig", rig_file, "--person", "take_Person_001", "--preset", "mixamo",
                "--no-foot-pin", "--no-per-person", "-o", out)  # fmt: skip
    assert done.returncode == 0, done.stderr
    bpy_empty.ops.wm.open_mainfile(filepath=str(out))
    imported = next(
        obj for obj in bpy_empty.data.objects if obj.type == "ARMATURE" and "mixamorig:Hips" in obj.data.bones
    )
    person = bpy_empty.data.objects["take_Person_001"]
    worst = segment_errors(bpy_empty, person, imported, mixamo_rig().bone_map(), sample_frames(person, 3))
    assert max(worst.values()) < 2.0, worst


def test_bad_requests_exit_1_with_the_reason(bpy_empty, tmp_path, scene_file):
    out = tmp_path / "never.blend"
    unknown = _rig_blend(bpy_empty, unknown_rig(), tmp_path / "mystery.blend")
    done = _cli("retarget", scene_file, "--rig", unknown, "--per-person", "-o", out)
    assert done.returncode == 1 and "no bone-map preset matches armature 'Mystery'" in done.stderr
    done = _cli("retarget", scene_file, "--rig", unknown, "--no-per-person", "-o", out)
    assert done.returncode == 1 and "3 people in crowd.blend for one rig: drop --no-per-person" in done.stderr
    done = _cli("retarget", scene_file, "--rig", tmp_path / "missing.fbx", "--per-person", "-o", out)
    assert done.returncode == 1 and "missing.fbx: no such rig file" in done.stderr
    done = _cli("retarget", scene_file, "--rig", unknown, "--per-person", "--preset", "nope", "-o", out)
    assert done.returncode == 1 and "no bone-map preset 'nope'" in done.stderr
    assert not out.exists()
    assert "Traceback" not in done.stderr
