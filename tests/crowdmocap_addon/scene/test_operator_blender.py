"""In real Blender: File › Import › CrowdMocap result, registered with the add-on and gone without it."""

import numpy as np
import pytest

from crowdmocap_addon.core.body.standin import load_standin_body
from tests.crowdmocap_addon.scene.scenes import datablock_counts, exact_capture, write

pytestmark = pytest.mark.blender
MODULE = "crowdmocap_addon"


def _menu_entries(bpy):
    funcs = getattr(bpy.types.TOPBAR_MT_file_import.draw, "_draw_funcs", [])
    return [f for f in funcs if f.__module__.startswith(MODULE)]


@pytest.fixture
def addon(bpy_empty):
    import addon_utils

    addon_utils.enable(MODULE, default_set=True)
    yield bpy_empty.context.preferences.addons[MODULE].preferences
    addon_utils.disable(MODULE, default_set=True)


def test_enabling_twice_registers_the_operator_and_one_menu_entry_and_disabling_removes_them(bpy_empty):
    import addon_utils

    for _ in range(2):
        addon_utils.enable(MODULE, default_set=True)
        assert hasattr(bpy_empty.types, "IMPORT_SCENE_OT_crowdmocap_result")
        assert "UNDO" in bpy_empty.types.IMPORT_SCENE_OT_crowdmocap_result.bl_options  # one undo step
        assert len(_menu_entries(bpy_empty)) == 1
        addon_utils.disable(MODULE, default_set=True)
        assert not hasattr(bpy_empty.types, "IMPORT_SCENE_OT_crowdmocap_result")
        assert _menu_entries(bpy_empty) == []


def test_the_operator_takes_the_smpl_model_from_the_preferences(addon, bpy_empty, tmp_path, smpl_npz):
    addon.smpl_model_path = str(smpl_npz)
    path = write(tmp_path, exact_capture(seed=1, people=2, frames=4))
    assert bpy_empty.ops.import_scene.crowdmocap_result(filepath=str(path)) == {"FINISHED"}
    body = bpy_empty.data.objects["take_Person_001_body"]
    assert len(body.data.vertices) == 192  # the synthetic SMPL model's mesh


def test_an_empty_smpl_path_means_stand_in_bodies_and_ground_align_can_be_off(addon, bpy_empty, tmp_path, smpl_npz):
    addon.smpl_model_path = str(smpl_npz)
    path = write(tmp_path, exact_capture(seed=1, people=2, frames=4))
    done = bpy_empty.ops.import_scene.crowdmocap_result(filepath=str(path), smpl_model_path="", ground_align=False)
    assert done == {"FINISHED"}
    body = bpy_empty.data.objects["take_Person_001_body"]
    assert len(body.data.vertices) == len(load_standin_body().vertices)
    np.testing.assert_allclose(np.array(bpy_empty.data.objects["CrowdMocap_take_camera"].location), 0.0, atol=1e-9)


def test_a_bad_file_is_reported_and_imports_nothing(addon, bpy_empty, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("not a result")
    before = datablock_counts(bpy_empty)
    with pytest.raises(RuntimeError, match=r"bad\.npz: not a readable result archive"):
        bpy_empty.ops.import_scene.crowdmocap_result(filepath=str(bad))
    assert datablock_counts(bpy_empty) == before
