"""Bone-map presets: the shipped files, detection from bone names, namespaces, user presets on disk."""

import json

import pytest

from crowdmocap_addon.core.joints import JOINT_NAMES
from crowdmocap_addon.retarget.presets import (
    BUILTIN_ORDER,
    BoneMap,
    BoneMapError,
    UnknownRigError,
    builtin_presets,
    detect,
    find_preset,
    load_preset_file,
    preset_id_for,
    resolve,
    save_user_preset,
    score,
    user_presets,
)
from tests.crowdmocap_addon.retarget.rigs import RIGS, unknown_rig

# A generated Rigify rig has both its FK controls and its DEF bones (and much more).
RIGIFY_GENERATED = [
    "root", "torso", "hips", "chest", "spine_fk", "spine_fk.001", "spine_fk.002", "spine_fk.003", "neck", "head",
    *[f"{bone}.{side}" for side in "LR" for bone in (
        "thigh_fk", "shin_fk", "foot_fk", "toe_fk", "shoulder", "upper_arm_fk", "forearm_fk", "hand_fk", "thigh_ik",
        "DEF-thigh", "DEF-shin", "DEF-foot", "DEF-toe", "DEF-shoulder", "DEF-upper_arm", "DEF-forearm", "DEF-hand",
    )],
    *[f"DEF-spine{suffix}" for suffix in ("", ".001", ".002", ".003", ".004", ".005", ".006")],
]  # fmt: skip
PRESETS = builtin_presets()


def test_every_shipped_preset_loads_and_maps_the_body():
    assert [preset.id for preset in PRESETS] == list(BUILTIN_ORDER)
    for preset in PRESETS:
        assert preset.builtin and preset.name
        mapped = set(preset.bones)
        assert {"pelvis", "left_hip", "right_knee", "left_ankle", "left_shoulder", "right_wrist", "neck"} <= mapped
        assert len(preset.target_bones()) == len(set(preset.target_bones()))  # no bone driven twice


def test_ue5_spreads_smpls_three_spine_joints_over_its_five_spine_bones():
    ue5 = find_preset("ue5", PRESETS)
    assert [ue5.bones[j] for j in ("spine1", "spine2", "spine3")] == ["spine_01", "spine_03", "spine_05"]
    assert ue5.root == ("root",)


@pytest.mark.parametrize("kind", sorted(RIGS))
def test_detection_picks_each_test_rigs_preset(kind):
    spec = RIGS[kind]()
    found = detect([bone.name for bone in spec.bones], PRESETS)
    assert found.preset.id == spec.preset
    assert found.score == 1.0


def test_a_generated_rigify_rig_is_driven_through_its_controls_not_its_constrained_def_bones():
    found = detect(RIGIFY_GENERATED, PRESETS)
    assert found.scores["rigify"] == found.scores["rigify_deform"] == 1.0
    assert found.preset.id == "rigify"  # ties go to the earlier preset
    deform_only = [name for name in RIGIFY_GENERATED if name.startswith("DEF-")]
    assert detect(deform_only, PRESETS).preset.id == "rigify_deform"


def test_mixamo_names_match_under_any_namespace_or_none():
    mixamo = find_preset("mixamo", PRESETS)
    for prefix in ("mixamorig:", "mixamorig7:", ""):
        names = [prefix + bone.split(":", 1)[1] for bone in mixamo.target_bones()]
        assert detect(names, PRESETS).preset.id == "mixamo"
        found, missing = resolve(mixamo, names)
        assert found["pelvis"] == prefix + "Hips" and not missing


def test_a_partial_rig_scores_its_fraction_and_unmapped_names_are_reported():
    unity = find_preset("unity", PRESETS)
    names = [bone for bone in unity.target_bones() if bone not in ("UpperChest", "LeftToes", "RightToes")]
    assert score(unity, names) == pytest.approx(19 / 22)
    assert detect(names, PRESETS).preset.id == "unity"
    found, missing = resolve(unity, names)
    assert sorted(missing) == ["LeftToes", "RightToes", "UpperChest"]
    assert "spine3" not in found


def test_an_unknown_rig_gets_a_message_naming_what_was_looked_for():
    names = [bone.name for bone in unknown_rig().bones]
    with pytest.raises(UnknownRigError) as caught:
        detect(names, PRESETS, rig_name="armature 'Mystery'")
    message = str(caught.value)
    assert "armature 'Mystery'" in message
    for needle in ("Mixamo", "mixamorig:Hips", "Unreal Engine 5", "pelvis", "Unity", "Hips", "Rigify", "torso",
                   "DEF-spine", "SMPL", "0 of 22 found", "70%"):  # fmt: skip
        assert needle in message, needle


def test_user_presets_save_load_and_list_after_bad_files_are_reported(tmp_path):
    mine = BoneMap(id=preset_id_for("My Rig 2"), name="My Rig 2", bones={"pelvis": "Root_M", "neck": "Neck_M"},
                   root=("Main",), properties={"Root_M": {"stretch": 0.0}})  # fmt: skip
    path = save_user_preset(tmp_path, mine)
    assert path.name == "my_rig_2.json"
    loaded = load_preset_file(path)
    assert (loaded.id, loaded.name, dict(loaded.bones), loaded.root) == (
        "my_rig_2",
        "My Rig 2",
        dict(mine.bones),
        ("Main",),
    )
    assert loaded.properties == {"Root_M": {"stretch": 0.0}}
    (tmp_path / "broken.json").write_text("{ not json")
    (tmp_path / "mixamo.json").write_text(path.read_text())
    presets, problems = user_presets(tmp_path)
    assert [preset.id for preset in presets] == ["my_rig_2"]
    assert len(problems) == 2 and any("broken.json" in p for p in problems) and any("built-in" in p for p in problems)
    assert user_presets(tmp_path / "missing") == ([], [])


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ({"bones": {}}, "not a CrowdMocap bone map"),
        ({"format": "crowdmocap-bone-map", "version": 9, "bones": {}}, "version 9"),
        ({"format": "crowdmocap-bone-map", "version": 1, "bones": {"tail": "Tail"}}, "tail are not SMPL joints"),
        ({"format": "crowdmocap-bone-map", "version": 1, "bones": {"neck": "B", "head": "B"}}, "B driven by more"),
        ({"format": "crowdmocap-bone-map", "version": 1, "bones": {"neck": 3}}, "must map SMPL joint names"),
    ],
)
def test_malformed_preset_files_name_the_file_and_the_problem(tmp_path, data, match):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BoneMapError, match=match) as caught:
        load_preset_file(path)
    assert "bad.json" in str(caught.value)


def test_preset_names_become_safe_ids_and_cannot_shadow_shipped_ones():
    assert preset_id_for("  Mixamo (no fingers) ") == "mixamo_no_fingers"
    with pytest.raises(BoneMapError, match="built-in"):
        preset_id_for("UE5")
    with pytest.raises(BoneMapError, match="file name"):
        preset_id_for("***")


def test_json_round_trip_keeps_smpl_order_and_drops_empty_entries():
    bone_map = BoneMap(id="x", name="X", bones={"head": "H", "pelvis": "P", "neck": ""})
    data = bone_map.to_json()
    assert list(data["bones"]) == ["pelvis", "head"]
    assert BoneMap.from_json("x", data).bones == {"pelvis": "P", "head": "H"}
    assert all(joint in JOINT_NAMES for joint in find_preset("smpl", PRESETS).bones)


@pytest.mark.blender
def test_the_presets_ship_inside_the_extension_zip(tmp_path):
    import importlib.util
    import zipfile

    from tests.conftest import REPO

    spec = importlib.util.spec_from_file_location("build_extension", REPO / "scripts" / "build_extension.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with zipfile.ZipFile(module.build_extension(tmp_path)) as archive:
        names = set(archive.namelist())
    assert {f"retarget/presets/{preset_id}.json" for preset_id in BUILTIN_ORDER} <= names
