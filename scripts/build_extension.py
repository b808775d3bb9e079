"""Build the installable Blender extension zip and validate it with Blender's own extension tool.

The zip holds ``blender_manifest.toml`` and the contents of ``crowdmocap_addon/`` at its root, as
Blender expects. ``blender_ext.py`` ships inside the ``bpy`` wheel and runs with plain Python.

    python scripts/build_extension.py [--output-dir dist]
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ADDON_DIR = REPO / "crowdmocap_addon"
MANIFEST = REPO / "blender_manifest.toml"


def find_blender_ext_tool() -> Path:
    """Locate ``bl_pkg/cli/blender_ext.py`` inside the installed ``bpy`` package, without importing bpy."""
    spec = importlib.util.find_spec("bpy")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("bpy is not installed in this Python; run `make test` or `pip install 'bpy==4.5.*'`")
    package_dir = Path(next(iter(spec.submodule_search_locations)))
    tools = sorted(package_dir.glob("*/scripts/addons_core/bl_pkg/cli/blender_ext.py"))
    if not tools:
        raise SystemExit(f"Blender's extension tool (bl_pkg/cli/blender_ext.py) is not under {package_dir}")
    return tools[-1]


def _run_tool(tool: Path, *args: str) -> str:
    done = subprocess.run([sys.executable, str(tool), *args], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"blender_ext {args[0]} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def build_extension(output_dir: Path) -> Path:
    """Stage manifest + add-on, build ``crowdmocap-<version>.zip`` into ``output_dir``, validate it."""
    tool = find_blender_ext_tool()
    output_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="crowdmocap-ext-") as staging:
        stage = Path(staging) / "crowdmocap"
        shutil.copytree(ADDON_DIR, stage, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        shutil.copy2(MANIFEST, stage / MANIFEST.name)
        before = set(output_dir.glob("*.zip"))
        _run_tool(tool, "build", "--source-dir", str(stage), "--output-dir", str(output_dir))
    built = sorted(set(output_dir.glob("*.zip")) - before) or sorted(output_dir.glob("crowdmocap-*.zip"))
    if not built:
        raise SystemExit(f"blender_ext build reported success but wrote no zip into {output_dir}")
    package = built[-1]
    _run_tool(tool, "validate", str(package))
    return package


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output-dir", type=Path, default=REPO / "dist", help="where the zip goes (default: dist/)")
    args = parser.parse_args()
    print(f"built and validated {build_extension(args.output_dir)}")


if __name__ == "__main__":
    main()
