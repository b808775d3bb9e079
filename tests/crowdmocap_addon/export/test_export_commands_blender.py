"""Export from the operator and from ``crowdmocap-blender export``: the files the user asked for, clear refusals."""

from __future__ import annotations

import pytest

from crowdmocap_addon.headless import main
from tests.crowdmocap_addon.scene.scenes import exact_capture, write

pytestmark = pytest.mark.blender
MODULE = "crowdmocap_addon"


@pytest.fixture
def scene_file(bpy_empty, tmp_path):
    result = write(tmp_path, exact_capture(seed=4, people=3, frames=6), name="plaza.npz")
    blend = tmp_path / "plaza.blend"
    assert main(["import", str(result), "-o", str(blend)]) == 0
    return blend


def test_headless_export_per_person_and_for_the_crowd(scene_file, tmp_path, capsys):
    assert main(["export", str(scene_file), "--format", "fbx", "--preset", "unreal", "--per-person", "-o",
                 str(tmp_path / "ue")]) == 0  # fmt: skip
    names = sorted(p.name for p in (tmp_path / "ue").iterdir())
    assert names == ["plaza_Person_001.fbx", "plaza_Person_002.fbx", "plaza_Person_003.fbx"]
    assert "[3/3] wrote" in capsys.readouterr().out
    assert main(["export", str(scene_file), "--format", "glb", "-o", str(tmp_path / "web")]) == 0
    assert [p.name for p in (tmp_path / "web").iterdir()] == ["plaza_crowd.glb"]
    assert main(["export", str(scene_file), "--format", "bvh", "--person", "plaza_Person_002", "-o",
                 str(tmp_path / "bvh")]) == 0  # fmt: skip
    assert [p.name for p in (tmp_path / "bvh").iterdir()] == ["plaza_Person_002.bvh"]


def test_headless_export_refuses_bad_requests(scene_file, tmp_path, capsys):
    with pytest.raises(SystemExit) as usage:
        main(["export", str(scene_file), "--format", "glb", "--preset", "unreal", "-o", str(tmp_path)])
    assert usage.value.code == 2 and "does not apply to --format glb" in capsys.readouterr().err
    assert main(["export", str(tmp_path / "nothing.blend"), "--format", "fbx", "-o", str(tmp_path)]) == 1
    assert "no such .blend file" in capsys.readouterr().err
    assert main(["export", str(scene_file), "--format", "fbx", "--person", "Nobody", "-o", str(tmp_path)]) == 1
    assert "no armature to export among --person" in capsys.readouterr().err


def test_the_operator_exports_the_scene_people_with_progress(bpy_empty, scene_file, tmp_path):
    import addon_utils

    bpy_empty.ops.wm.open_mainfile(filepath=str(scene_file))
    addon_utils.enable(MODULE, default_set=True)
    try:
        folder = tmp_path / "unity"
        folder.mkdir()
        done = bpy_empty.ops.crowdmocap.export_crowd(filepath=str(folder) + "/", preset="unity", per_person=False)
        assert done == {"FINISHED"}
        assert [p.name for p in folder.iterdir()] == ["plaza_crowd.fbx"]
    finally:
        addon_utils.disable(MODULE, default_set=True)
    assert not hasattr(bpy_empty.types, "CROWDMOCAP_OT_export_crowd")
