"""The Blender extension builds, validates with Blender's own tool, installs, (un)registers cleanly and imports."""

import json
import os
import subprocess
import sys
import zipfile

import pytest

from crowdmocap_addon.core.result.writer import write_result
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


def menu_entries():
    funcs = getattr(bpy.types.TOPBAR_MT_file_import.draw, "_draw_funcs", [])
    return sum(1 for f in funcs if f.__module__.startswith(module))


def registered():
    return {"operator": hasattr(bpy.types, "IMPORT_SCENE_OT_crowdmocap_result"), "menu_entries": menu_entries()}


report = {"enabled_after_install": module in addons, "server_url": addons[module].preferences.server_url}
report["registered_after_install"] = registered()
prefs_class = type(addons[module].preferences)
report["cycles"] = []
for _ in range(2):
    addon_utils.disable(module, default_set=True)
    off = {"enabled": module in addons, "class_registered": prefs_class.is_registered, **registered()}
    addon_utils.enable(module, default_set=True)
    prefs_class = type(addons[module].preferences)
    on = {"enabled": module in addons, "server_url": addons[module].preferences.server_url, **registered()}
    report["cycles"].append({"off": off, "on": on})
bpy.ops.wm.read_homefile(use_empty=True)
report["import"] = bpy.ops.import_scene.crowdmocap_result(filepath=sys.argv[2]) == {"FINISHED"}
report["people"] = sorted(o.name for o in bpy.data.objects if o.type == "ARMATURE")
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
    assert {"blender_manifest.toml", "__init__.py", "core/result/reader.py", "core/body/skeleton.py"} <= names
    assert not any("__pycache__" in name for name in names)


def test_installs_enables_toggles_cleanly_and_imports(tmp_path, capture):
    package = _build(tmp_path)
    result = write_result(tmp_path / "take.npz", capture)
    env = dict(os.environ, BLENDER_USER_RESOURCES=str(tmp_path / "blender_user"))
    done = subprocess.run(
        [sys.executable, "-c", _INSTALL_SCRIPT, str(package), str(result)],
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
    assert report["registered_after_install"] == {"operator": True, "menu_entries": 1}
    for cycle in report["cycles"]:
        assert cycle["off"] == {"enabled": False, "class_registered": False, "operator": False, "menu_entries": 0}
        assert cycle["on"] == {"enabled": True, "server_url": "http://127.0.0.1:8765", "operator": True,
                               "menu_entries": 1}  # fmt: skip
    # The import runs from the installed package (relative imports, the stand-in asset inside the zip).
    assert report["import"]
    assert report["people"] == ["take_Person_001", "take_Person_002", "take_Person_003"]
