"""The Blender extension builds, validates with Blender's own tool, installs and (un)registers cleanly."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.blender

# Runs inside a fresh Python with bpy: install the built zip into a throw-away user repository,
# enable it, check what it registered, disable and enable again, and report as JSON.
_INSTALL_SCRIPT = r"""
import json, sys
import bpy
import addon_utils
bpy.ops.extensions.package_install_files(filepath=sys.argv[1], repo="user_default", enable_on_install=True)
module = "bl_ext.user_default.crowdmocap"
addons = bpy.context.preferences.addons
report = {"enabled_after_install": module in addons, "server_url": addons[module].preferences.server_url}
prefs_class = type(addons[module].preferences)
report["cycles"] = []
for _ in range(2):
    addon_utils.disable(module, default_set=True)
    off = {"enabled": module in addons, "class_registered": prefs_class.is_registered}
    addon_utils.enable(module, default_set=True)
    prefs_class = type(addons[module].preferences)
    on = {"enabled": module in addons, "server_url": addons[module].preferences.server_url}
    report["cycles"].append({"off": off, "on": on})
print("REPORT" + json.dumps(report))
"""


def _build(tmp_path):
    done = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "build_extension.py"), "--output-dir", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return next((tmp_path / "dist").glob("crowdmocap-*.zip"))


def test_zip_has_manifest_and_package_at_its_root(tmp_path):
    package = _build(tmp_path)
    with zipfile.ZipFile(package) as archive:
        names = set(archive.namelist())
    assert {"blender_manifest.toml", "__init__.py", "result/reader.py", "body/skeleton.py"} <= names
    assert not any("__pycache__" in name for name in names)


def test_installs_enables_and_toggles_cleanly(tmp_path):
    package = _build(tmp_path)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "blender_user"))
    done = subprocess.run(
        [sys.executable, "-c", _INSTALL_SCRIPT, str(package)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout.split("REPORT", 1)[1].splitlines()[0])
    assert report["enabled_after_install"]
    assert report["server_url"] == "http://127.0.0.1:8765"
    for cycle in report["cycles"]:
        assert cycle["off"] == {"enabled": False, "class_registered": False}
        assert cycle["on"] == {"enabled": True, "server_url": "http://127.0.0.1:8765"}
