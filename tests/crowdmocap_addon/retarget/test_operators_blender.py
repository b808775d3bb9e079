"""In real Blender with the add-on enabled: the Retarget sub-panel, its operators and the editable bone map."""

import json

import pytest

from crowdmocap_addon.retarget import operators_bpy
from crowdmocap_addon.retarget.retarget_bpy import choose_bone_map
from tests.crowdmocap_addon.retarget.blender_scenes import import_people, keyed_bones, sample_frames, segment_errors
from tests.crowdmocap_addon.retarget.motion import stepping_capture
from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig, ue5_rig, unknown_rig

pytestmark = pytest.mark.blender
MODULE = "crowdmocap_addon"
CLASSES = ("CROWDMOCAP_OT_retarget", "CROWDMOCAP_OT_retarget_load_map", "CROWDMOCAP_OT_retarget_save_preset",
           "VIEW3D_PT_crowdmocap_retarget", "CROWDMOCAP_UL_bone_map")  # fmt: skip


@pytest.fixture
def addon(bpy_empty):
    import addon_utils

    addon_utils.enable(MODULE, default_set=True)
    yield bpy_empty
    addon_utils.disable(MODULE, default_set=True)


def _select(bpy, people, rig):
    for obj in bpy.context.view_layer.objects:
        obj.select_set(obj in people or obj is rig)
    bpy.context.view_layer.objects.active = rig


def test_enabling_twice_registers_the_sub_panel_and_operators_and_disabling_removes_them(bpy_empty):
    import addon_utils

    for _ in range(2):
        addon_utils.enable(MODULE, default_set=True)
        assert all(hasattr(bpy_empty.types, name) for name in CLASSES)
        assert bpy_empty.types.VIEW3D_PT_crowdmocap_retarget.bl_parent_id == "VIEW3D_PT_crowdmocap"
        assert hasattr(bpy_empty.types.Scene, "crowdmocap_retarget")
        addon_utils.disable(MODULE, default_set=True)
        assert not any(hasattr(bpy_empty.types, name) for name in CLASSES)
        assert not hasattr(bpy_empty.types.Scene, "crowdmocap_retarget")


def test_retarget_operator_duplicates_the_rig_per_selected_person(addon, tmp_path):
    bpy = addon
    people = import_people(bpy, tmp_path, stepping_capture(seed=5, people=2, frames=12))
    rig = build_armature(bpy, mixamo_rig())
    _select(bpy, people, rig)  # the second person is not on screen yet: only "all in scene" reaches them
    assert bpy.ops.crowdmocap.retarget(preset="auto", duplicate_per_person=True, foot_pin=False) == {"FINISHED"}
    assert f"{people[1].name}_MixamoLike" not in bpy.data.objects
    _select(bpy, [], rig)
    done = bpy.ops.crowdmocap.retarget(people="SCENE", duplicate_per_person=True, foot_pin=False)
    assert done == {"FINISHED"}
    # the re-run replaced the first person's character (no ".001" copy, action or collection piles up)
    copies = [bpy.data.objects[f"{people[0].name}_MixamoLike"], bpy.data.objects[f"{people[1].name}_MixamoLike"]]
    for person, copy in zip(people, copies, strict=True):
        worst = segment_errors(bpy, person, copy, mixamo_rig().bone_map(), sample_frames(person, 2))
        assert max(worst.values()) < 2.0
        assert copy.animation_data.action.name == f"{copy.name}_retarget"
    assert not [o.name for o in bpy.data.objects if o.name.endswith(".001")]
    assert not [a.name for a in bpy.data.actions if a.name.endswith(".001")]
    assert [c.name for c in bpy.data.collections if c.name.startswith("MixamoLike_crowd")] == ["MixamoLike_crowd"]
    assert len([o for o in bpy.data.objects if o.get("crowdmocap_retarget_of") == people[0].name]) == 1


def test_the_panel_map_loads_from_a_preset_can_be_edited_and_drives_the_retarget(addon, tmp_path):
    bpy = addon
    people = import_people(bpy, tmp_path, stepping_capture(seed=6, people=1, frames=10))
    rig = build_armature(bpy, ue5_rig())
    _select(bpy, people, rig)
    settings = bpy.context.scene.crowdmocap_retarget
    assert bpy.ops.crowdmocap.retarget_load_map(preset="auto") == {"FINISHED"}
    rows = {item.joint: item.bone for item in settings.bone_map}
    assert len(rows) == 24 and rows["spine2"] == "spine_03" and rows["left_hand"] == ""
    assert settings.root_bone == "root" and settings.map_name == "Unreal Engine 5 Mannequin"
    next(item for item in settings.bone_map if item.joint == "head").bone = ""  # the user unmaps the head
    assert bpy.ops.crowdmocap.retarget(preset="", duplicate_per_person=False, foot_pin=False) == {"FINISHED"}
    assert "head" not in keyed_bones(rig) and "neck_01" in keyed_bones(rig)


def test_saving_the_map_writes_a_user_preset_that_is_then_offered(addon, tmp_path, monkeypatch):
    bpy = addon
    folder = tmp_path / "retarget_presets"
    monkeypatch.setattr(operators_bpy, "user_preset_folder", lambda create=False: folder)
    monkeypatch.setattr("crowdmocap_addon.retarget.presets_bpy.user_preset_folder", lambda create=False: folder)
    rig = build_armature(bpy, mixamo_rig())
    _select(bpy, [], rig)
    settings = bpy.context.scene.crowdmocap_retarget
    bpy.ops.crowdmocap.retarget_load_map(preset="mixamo")
    settings.preset_name = "Mixamo Studio"
    assert bpy.ops.crowdmocap.retarget_save_preset() == {"FINISHED"}
    saved = json.loads((folder / "mixamo_studio.json").read_text())
    assert saved["format"] == "crowdmocap-bone-map" and saved["bones"]["pelvis"] == "mixamorig:Hips"
    assert settings.preset == "mixamo_studio"
    bone_map, score = choose_bone_map(rig, "mixamo_studio")
    assert (bone_map.name, score) == ("Mixamo Studio", None)
    with pytest.raises(RuntimeError, match="built-in preset"):
        bpy.ops.crowdmocap.retarget_save_preset(name="UE5")


def test_an_unknown_rig_is_reported_and_changes_nothing(addon, tmp_path):
    bpy = addon
    people = import_people(bpy, tmp_path, stepping_capture(seed=7, people=1, frames=6))
    rig = build_armature(bpy, unknown_rig())
    _select(bpy, people, rig)
    objects = len(bpy.data.objects)
    with pytest.raises(RuntimeError, match=r"no bone-map preset matches armature 'Mystery'.*Looked for: Mixamo"):
        bpy.ops.crowdmocap.retarget(preset="auto")
    assert len(bpy.data.objects) == objects and rig.animation_data is None


class _Layout:
    """Stands in for a UILayout: records what the panel asks for (headless Blender draws no UI)."""

    def __init__(self, calls):
        self.calls = calls

    def __getattr__(self, name):
        def record(*args, **kwargs):
            self.calls.append((name, args, kwargs))
            return _Layout(self.calls)

        return record

    def __setattr__(self, name, value):
        if name == "calls":
            object.__setattr__(self, name, value)


def test_the_sub_panel_draws_with_and_without_a_rig(addon, tmp_path):
    bpy = addon
    people = import_people(bpy, tmp_path, stepping_capture(seed=8, people=1, frames=6))
    panel, ui_list = bpy.types.VIEW3D_PT_crowdmocap_retarget, bpy.types.CROWDMOCAP_UL_bone_map
    for rig in (None, build_armature(bpy, mixamo_rig())):
        _select(bpy, people, rig)
        if rig is not None:
            bpy.ops.crowdmocap.retarget_load_map()
        calls = []
        panel.draw(type("Panel", (), {"layout": _Layout(calls)})(), bpy.context)
        labels = [kwargs.get("text", "") for name, _, kwargs in calls if name == "label"]
        assert "People: 1" in labels
        assert ("Rig: MixamoLike" if rig else "Rig: make an armature active") in labels
        assert {"template_list", "operator"} <= {name for name, _, _ in calls}
        for item in bpy.context.scene.crowdmocap_retarget.bone_map[:2]:
            ui_list.draw_item(None, bpy.context, _Layout(calls), None, item, 0, None, "")
    assert any(name == "prop_search" for name, _, _ in calls)


def test_retargeting_the_rig_itself_again_replaces_its_action(addon, tmp_path):
    bpy = addon
    people = import_people(bpy, tmp_path, stepping_capture(seed=6, people=1, frames=8))
    rig = build_armature(bpy, mixamo_rig())
    for _ in range(2):
        _select(bpy, people, rig)
        assert bpy.ops.crowdmocap.retarget(duplicate_per_person=False, foot_pin=False) == {"FINISHED"}
    assert [a.name for a in bpy.data.actions if a.name.startswith("MixamoLike_retarget")] == ["MixamoLike_retarget"]
    assert rig.animation_data.action.name == "MixamoLike_retarget"
    worst = segment_errors(bpy, people[0], rig, mixamo_rig().bone_map(), sample_frames(people[0], 2))
    assert max(worst.values()) < 2.0
