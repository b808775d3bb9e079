"""``crowdmocap-blender`` runs the add-on's code headless through bpy."""

import subprocess
import sys

import pytest

from crowdmocap_addon import __version__
from inference_server.result.writer import write_result


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


def test_info_on_a_bad_file_exits_1_with_the_reason(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_text("nope")
    done = _cli("info", bad)
    assert done.returncode == 1
    assert "bad.npz" in done.stderr
    assert "Traceback" not in done.stderr
