"""``crowdmocap-blender`` runs the add-on's code headless through bpy."""

import json
import subprocess
import sys

import pytest

from crowdmocap_addon import __version__
from crowdmocap_addon.core.result.writer import write_result
from tests.conftest import REPO


def _cli(*args):
    return subprocess.run(
        [sys.executable, "-m", "crowdmocap_addon.headless", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.blender
def test_version_reports_the_blender_it_runs_in():
    import bpy

    done = _cli("version")
    assert done.returncode == 0, done.stderr
    assert __version__ in done.stdout
    assert f"Blender {bpy.app.version_string}" in done.stdout


def test_info_summarises_a_result(tmp_path, capture):
    path = write_result(tmp_path / "take.npz", capture)
    done = _cli("info", path)
    assert done.returncode == 0, done.stderr
    assert "3 people" in done.stdout
    assert "person 7: frames" in done.stdout
    assert "768x576" in done.stdout
    quality = _cli("info", path, "--quality")
    assert quality.returncode == 0, quality.stderr
    assert quality.stdout.startswith(done.stdout) and "implausible person-frames" in quality.stdout


def test_info_on_a_bad_file_exits_1_with_the_reason(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    done = _cli("info", bad)
    assert done.returncode == 1
    assert "bad.npz" in done.stderr
    assert "Traceback" not in done.stderr


# Re-opens a written .blend in a fresh Blender and reports what it holds.
_REOPEN_SCRIPT = r"""
import json, sys
import bpy
bpy.ops.wm.open_mainfile(filepath=sys.argv[1])
scene = bpy.context.scene
people = sorted(o.name for o in bpy.data.objects if o.type == "ARMATURE")
arm = bpy.data.objects[people[0]]
report = {
    "people": people,
    "bodies": sorted(o.name for o in bpy.data.objects if o.type == "MESH"),
    "bones": len(arm.data.bones),
    "keyed": arm.animation_data.action_slot is not None and arm.animation_data.action is not None,
    "camera": scene.camera.name if scene.camera else None,
    "camera_z": scene.camera.matrix_world.translation.z,
    "fps": [scene.render.fps, scene.render.fps_base],
    "collections": [c.name for c in scene.collection.children],
    "footage": [c.get("crowdmocap_footage") for c in scene.collection.children],
}
print("REPORT" + json.dumps(report))
"""


def _reopen(blend):
    done = subprocess.run(
        [sys.executable, "-c", _REOPEN_SCRIPT, str(blend)], capture_output=True, text=True, check=False, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return json.loads(done.stdout.split("REPORT", 1)[1].splitlines()[0])


@pytest.mark.blender
def test_import_writes_a_blend_that_reopens_with_the_people(tmp_path, capture):
    path = write_result(tmp_path / "take.npz", capture)
    blend = tmp_path / "out" / "take.blend"
    done = _cli("import", path, "-o", blend)
    assert done.returncode == 0, done.stderr
    assert "3 people" in done.stdout
    report = _reopen(blend)
    assert report["people"] == ["take_Person_001", "take_Person_002", "take_Person_003"]
    assert report["bodies"] == ["take_Person_001_body", "take_Person_002_body", "take_Person_003_body"]
    assert report["bones"] == 24
    assert report["keyed"]
    assert report["camera"] == "CrowdMocap_take_camera"
    assert report["camera_z"] == pytest.approx(capture.ground.offset, abs=1e-5)  # ground-aligned by default
    assert report["fps"] == [30000, 1001.0]
    assert report["collections"] == ["CrowdMocap_take"]  # an empty scene: nothing from Blender's startup file


@pytest.mark.blender
def test_import_with_an_smpl_model_and_without_ground_alignment(tmp_path, capture, smpl_npz):
    path = write_result(tmp_path / "take.npz", capture)
    blend = tmp_path / "take.blend"
    video = REPO / "tests" / "data" / "vtest_first10s.avi"
    done = _cli("import", path, "-o", blend, "--smpl-model", smpl_npz, "--no-ground-align", "--footage", video)
    assert done.returncode == 0, done.stderr
    assert "smpl bodies" in done.stdout
    report = _reopen(blend)
    assert report["camera_z"] == pytest.approx(0.0, abs=1e-9)
    assert report["footage"] == [str(video)]


@pytest.mark.blender
@pytest.mark.parametrize("problem", ["bad result", "bad smpl"])
def test_import_of_bad_input_exits_1_with_the_reason_and_writes_nothing(tmp_path, capture, problem):
    good = write_result(tmp_path / "take.npz", capture)
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    args = [bad] if problem == "bad result" else [good, "--smpl-model", bad]
    done = _cli("import", *args, "-o", tmp_path / "out.blend")
    assert done.returncode == 1
    assert "bad.npz" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "out.blend").exists()


@pytest.mark.blender
def test_an_error_blender_raises_during_import_exits_1_with_the_reason(tmp_path, capture, monkeypatch, capsys):
    import crowdmocap_addon.scene.build_bpy as build
    from crowdmocap_addon.headless import main

    def refuse(*args, **kwargs):
        raise RuntimeError("Error: Object 'x' can't be selected because it is not in View Layer")

    monkeypatch.setattr(build, "import_result", refuse)  # what bpy raises from deep inside an import
    code = main(["import", str(write_result(tmp_path / "take.npz", capture)), "-o", str(tmp_path / "out.blend")])
    assert code == 1 and "Blender refused the request: RuntimeError" in capsys.readouterr().err
    assert not (tmp_path / "out.blend").exists()
