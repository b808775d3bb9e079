"""Export from the operator and from ``crowdmocap-blender export``: the files the user asked for, clear refusals."""

from __future__ import annotations

import numpy as np
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


@pytest.fixture
def retargeted_file(bpy_empty, scene_file, tmp_path):
    """The plaza scene after retargeting two of its people onto copies of a Mixamo-named rig."""
    from crowdmocap_addon.retarget.retarget_bpy import retarget
    from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig

    bpy_empty.ops.wm.open_mainfile(filepath=str(scene_file))
    rig = build_armature(bpy_empty, mixamo_rig())
    people = [bpy_empty.data.objects[f"plaza_Person_00{n}"] for n in (1, 3)]
    retarget(bpy_empty.context, people, rig, per_person=True)
    blend = tmp_path / "plaza_retargeted.blend"
    bpy_empty.ops.wm.save_as_mainfile(filepath=str(blend))
    return blend, rig.name


def test_export_takes_the_retargeted_characters_by_default_and_other_scopes_on_request(retargeted_file, tmp_path,
                                                                                        capsys):  # fmt: skip
    blend, rig = retargeted_file
    assert main(["export", str(blend), "--format", "fbx", "--per-person", "-o", str(tmp_path / "auto")]) == 0
    assert sorted(p.name for p in (tmp_path / "auto").iterdir()) == [
        f"plaza_Person_001_{rig}.fbx", f"plaza_Person_003_{rig}.fbx"]  # fmt: skip
    assert main(["export", str(blend), "--format", "bvh", "--scope", "captured", "-o", str(tmp_path / "cap")]) == 0
    assert len(list((tmp_path / "cap").iterdir())) == 3
    assert main(["export", str(blend), "--format", "bvh", "--scope", "all", "-o", str(tmp_path / "all")]) == 0
    assert f"{rig}.bvh" in {p.name for p in (tmp_path / "all").iterdir()}  # the template rig, only when asked
    assert len(list((tmp_path / "all").iterdir())) == 6


def test_an_empty_scope_is_refused_in_plain_words(bpy_empty, scene_file, tmp_path, capsys):
    import addon_utils

    assert main(["export", str(scene_file), "--format", "fbx", "--scope", "retargeted", "-o", str(tmp_path)]) == 1
    assert "no retargeted armatures to export (there are 3 captured)" in capsys.readouterr().err
    bpy_empty.ops.wm.open_mainfile(filepath=str(scene_file))
    addon_utils.enable(MODULE, default_set=True)
    try:
        with pytest.raises(RuntimeError, match="Nothing to export: no retargeted armatures"):
            bpy_empty.ops.crowdmocap.export_crowd(filepath=str(tmp_path) + "/", scope="retargeted")
    finally:
        addon_utils.disable(MODULE, default_set=True)


def test_unreal_files_have_one_root_whether_or_not_the_rig_brings_its_own(bpy_empty, scene_file, tmp_path):
    """UE takes the armature node as the root bone, except a node called 'Armature', which it skips."""
    from crowdmocap_addon.export.export_bpy import export_people
    from crowdmocap_addon.export.presets import find_preset
    from crowdmocap_addon.retarget.retarget_bpy import retarget
    from tests.crowdmocap_addon.retarget.rigs import build_armature, ue5_rig

    bpy_empty.ops.wm.open_mainfile(filepath=str(scene_file))
    person = bpy_empty.data.objects["plaza_Person_001"]
    rig = build_armature(bpy_empty, ue5_rig())  # its skeleton starts at a 'root' bone
    (character,) = retarget(bpy_empty.context, [person], rig).targets
    bpy_empty.data.objects.new("Armature", None)  # a name in the way is moved aside, then given back
    unreal = find_preset("unreal")
    files = export_people(bpy_empty.context, [character, person], unreal, tmp_path, capture_name="plaza")
    assert "Armature" in bpy_empty.data.objects and character.name == "plaza_Person_001_UE5Like"
    tops = {}
    for path in files:
        bpy_empty.ops.wm.read_factory_settings(use_empty=True)
        bpy_empty.ops.import_scene.fbx(filepath=str(path))
        (armature,) = [o for o in bpy_empty.data.objects if o.type == "ARMATURE"]
        tops[path.stem] = (armature.name, [b.name for b in armature.data.bones if b.parent is None])
    assert tops["plaza_Person_001_UE5Like"] == ("Armature", ["root"])  # root -> pelvis in Unreal
    assert tops["plaza_Person_001"] == ("root", ["pelvis"])  # the node is the root: root -> pelvis


def _fbx_units_and_scales(path) -> tuple[float, dict[str, tuple[float, ...]]]:
    """The file's UnitScaleFactor (cm per unit) and every model node's Lcl Scaling, read with Blender's own
    FBX parser (the exporter's settings are checked in the file, not in an engine)."""
    from io_scene_fbx import parse_fbx

    root, _ = parse_fbx.parse(str(path))

    def children(elem, name):
        return [c for c in elem.elems if c.id == name]

    settings = children(children(root, b"GlobalSettings")[0], b"Properties70")[0]
    unit = next(c.props[4] for c in settings.elems if c.props[0] == b"UnitScaleFactor")
    scales = {}
    for model in children(children(root, b"Objects")[0], b"Model"):
        name = model.props[1].split(b"\x00")[0].decode()
        props = children(model, b"Properties70")
        found = [c.props[4:] for c in props[0].elems if c.props[0] == b"Lcl Scaling"] if props else []
        scales[name] = tuple(found[0]) if found else (1.0, 1.0, 1.0)
    return float(unit), scales


@pytest.mark.parametrize("preset", ["unity", "unreal"])
def test_fbx_files_state_metres_and_leave_every_node_at_scale_one(bpy_empty, scene_file, tmp_path, preset):
    from crowdmocap_addon.export.export_bpy import export_people
    from crowdmocap_addon.export.presets import find_preset
    from crowdmocap_addon.retarget.retarget_bpy import retarget
    from tests.crowdmocap_addon.retarget.rigs import build_armature, mixamo_rig

    bpy_empty.ops.wm.open_mainfile(filepath=str(scene_file))
    person = bpy_empty.data.objects["plaza_Person_001"]
    (character,) = retarget(bpy_empty.context, [person], build_armature(bpy_empty, mixamo_rig())).targets
    for path in export_people(bpy_empty.context, [person, character], find_preset(preset), tmp_path, capture_name="p"):
        unit, scales = _fbx_units_and_scales(path)
        assert unit == pytest.approx(100.0), path.name  # 100 cm per unit: the file says metres
        odd = {name: scale for name, scale in scales.items() if not np.allclose(scale, 1.0, atol=1e-6)}
        assert not odd, (path.name, odd)  # no x100 (or x110) root scale for an engine to inherit
