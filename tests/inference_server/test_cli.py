"""``crowdmocap-server`` commands run as a user would run them: a real process, real files."""

import subprocess
import sys

import numpy as np

from crowdmocap_addon.core.body.smpl_file import load_smpl_model
from crowdmocap_addon.core.result.writer import write_result
from inference_server import __version__


def _cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "inference_server", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def test_version():
    done = _cli("version")
    assert done.returncode == 0
    assert __version__ in done.stdout


def test_export_json_and_amass(tmp_path, capture):
    result = write_result(tmp_path / "take.npz", capture)
    done = _cli("export", result, "--format", "json")
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "take.json").is_file()
    done = _cli("export", result, "--format", "amass", "-o", tmp_path / "amass")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "amass").iterdir()) == [
        "person_001.npz",
        "person_004.npz",
        "person_007.npz",
    ]


def test_export_of_a_damaged_result_fails_with_a_clear_message(tmp_path):
    bad = tmp_path / "broken.npz"
    bad.write_bytes(b"PK\x03\x04 definitely not a zip")
    done = _cli("export", bad, "--format", "json")
    assert done.returncode == 1
    assert "broken.npz" in done.stderr
    assert "not a readable result archive" in done.stderr
    assert "Traceback" not in done.stderr


def test_convert_smpl_writes_a_plain_npz(tmp_path, smpl_official_pkl):
    out = tmp_path / "converted" / "SMPL_NEUTRAL.npz"
    done = _cli("models", "convert-smpl", smpl_official_pkl, out)
    assert done.returncode == 0, done.stderr
    np.testing.assert_array_equal(load_smpl_model(out).shapedirs, load_smpl_model(smpl_official_pkl).shapedirs)


def test_convert_smpl_without_a_model_says_where_to_get_one(tmp_path):
    done = _cli("models", "convert-smpl", tmp_path, tmp_path / "out.npz", "--gender", "female")
    assert done.returncode == 1
    assert "SMPL_FEMALE" in done.stderr
    assert "smpl.is.tue.mpg.de" in done.stderr
    assert not (tmp_path / "out.npz").exists()


def test_usage_errors_exit_2():
    assert _cli("export").returncode == 2
    assert _cli("frobnicate").returncode == 2


def test_info_summarises_a_result_and_reports_its_plausibility(tmp_path, capture):
    result = write_result(tmp_path / "take.npz", capture)
    done = _cli("info", result)
    assert done.returncode == 0, done.stderr
    assert "3 people, 33 person-frames" in done.stdout and "plausibility" not in done.stdout
    assert "person 4: frames" in done.stdout and " observed, " in done.stdout
    done = _cli("info", result, "--quality")
    assert done.returncode == 0, done.stderr
    assert "implausible person-frames" in done.stdout and "foot skate during contacts" in done.stdout
    (tmp_path / "broken.npz").write_bytes(b"not a result")
    done = _cli("info", tmp_path / "broken.npz", "--quality")
    assert done.returncode == 1 and "error" in done.stderr and "Traceback" not in done.stderr
