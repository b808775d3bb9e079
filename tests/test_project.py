"""Project-level promises: one version everywhere, the manifest Blender needs, the README's commands."""

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import crowdmocap_addon
import inference_server
from tests.conftest import REPO


def test_one_version_across_server_addon_and_manifest():
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    assert manifest["version"] == crowdmocap_addon.__version__ == inference_server.__version__


def test_manifest_declares_what_the_extension_is_and_needs():
    manifest = tomllib.loads((REPO / "blender_manifest.toml").read_text())
    assert manifest["schema_version"] == "1.0.0"
    assert manifest["id"] == "crowdmocap"
    assert manifest["blender_version_min"] == "4.5.0"
    assert manifest["license"] == ["SPDX:GPL-3.0-or-later"]
    assert set(manifest["permissions"]) == {"network", "files"}
    assert (REPO / "LICENSE").read_text().startswith("                    GNU GENERAL PUBLIC LICENSE")


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_one():
    first_screen = "\n".join((REPO / "README.md").read_text().splitlines()[:25])
    assert "make demo" in first_screen
    assert "make test" in first_screen
    assert "make test" in (REPO / ".ci" / "run").read_text()


def test_console_scripts_are_installed_and_run():
    try:
        scripts = {ep.name for ep in metadata.distribution("crowdmocap").entry_points if ep.group == "console_scripts"}
    except metadata.PackageNotFoundError:
        pytest.skip("the crowdmocap distribution is not installed in this environment (make test installs it)")
    assert scripts == {"crowdmocap-server", "crowdmocap-blender"}
    server = Path(sys.executable).parent / "crowdmocap-server"
    done = subprocess.run([str(server), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "export" in done.stdout
