"""``crowdmocap-server`` starts without the heavy extras: --help, version and export on a base install.

Each check runs in a fresh interpreter. A ``sys.meta_path`` finder refuses the heavy modules, as on an
install without the ``inference``/``server`` extras; afterwards none of them may be in ``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crowdmocap_addon.core.result.writer import write_result
from inference_server import __version__
from tests.conftest import REPO
from tests.helpers.captures import make_capture

HEAVY = ("torch", "av", "cv2", "mediapipe", "onnxruntime", "smplx", "scipy", "fastapi", "uvicorn")

BASE_INSTALL = f"""
import importlib.abc, sys

class BaseInstall(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in {HEAVY!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (simulated base install)", name=name)
        return None

sys.meta_path.insert(0, BaseInstall())
"""

RUN_MAIN = """
from inference_server.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exit:
    code = exit.code
"""

REPORT = f"""
import json
loaded = sorted(name for name in sys.modules if name.partition(".")[0] in {HEAVY!r})
print(json.dumps({{"code": globals().get("code"), "loaded": loaded}}))
"""


def _fresh_python(code: str, *args: object) -> tuple[subprocess.CompletedProcess[str], dict]:
    """Run ``code`` in a new interpreter; returns the process and the report its last stdout line holds."""
    done = subprocess.run(
        [sys.executable, "-c", code + REPORT, *map(str, args)], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    return done, json.loads(done.stdout.splitlines()[-1])


def _base_install_cli(*args: object) -> tuple[str, dict]:
    """Run ``crowdmocap-server ARGS`` through ``main`` where the heavy modules cannot be imported."""
    done, report = _fresh_python("import sys\n" + BASE_INSTALL + RUN_MAIN, *args)
    return done.stdout, report


def test_the_simulated_base_install_refuses_every_heavy_module():
    code = (
        "import sys\n"
        + BASE_INSTALL
        + "\nrefused = []\n"
        + "".join(
            f"try:\n    import {name}\nexcept ModuleNotFoundError:\n    refused.append({name!r})\n" for name in HEAVY
        )
    )
    code += "assert refused == list(" + repr(HEAVY) + "), refused\n"
    _, report = _fresh_python(code)
    assert report["loaded"] == []


def test_importing_the_cli_loads_no_heavy_module():
    """Everything is installed here: the CLI still must not import any of it just to start."""
    _, report = _fresh_python("import sys\nimport inference_server.cli\n")
    assert report["loaded"] == []


@pytest.mark.parametrize("args", [["--help"], ["process", "--help"], ["serve", "--help"], ["models", "--help"]])
def test_help_runs_on_a_base_install(args):
    out, report = _base_install_cli(*args)
    assert report == {"code": 0, "loaded": []}
    assert "usage: crowdmocap-server" in out


def test_version_runs_on_a_base_install():
    out, report = _base_install_cli("version")
    assert report == {"code": 0, "loaded": []}
    assert __version__ in out


def test_export_to_json_and_amass_runs_on_a_base_install(tmp_path: Path):
    result = write_result(tmp_path / "take.npz", make_capture())
    _, report = _base_install_cli("export", result, "--format", "json")
    assert report == {"code": 0, "loaded": []}
    assert json.loads((tmp_path / "take.json").read_text())["people"]
    _, report = _base_install_cli("export", result, "--format", "amass", "-o", tmp_path / "amass")
    assert report == {"code": 0, "loaded": []}
    assert sorted(p.name for p in (tmp_path / "amass").iterdir()) == [
        "person_001.npz",
        "person_004.npz",
        "person_007.npz",
    ]
