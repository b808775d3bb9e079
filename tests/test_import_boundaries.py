"""The import graph's promises, read from the AST (lazy imports and ``importlib`` calls included).

- ``crowdmocap_addon.core`` is pure: standard library and NumPy, nothing else of the add-on, never Blender.
- ``inference_server`` reaches the add-on only through ``crowdmocap_addon.core``.
- The add-on never imports ``inference_server`` (the extension ships alone).
- Blender's modules appear only in the add-on's glue (``*_bpy.py``, ``__init__``, ``preferences``, ``headless``).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO

BLENDER_MODULES = {"bpy", "bpy_extras", "mathutils", "bmesh", "gpu", "gpu_extras", "blf", "bl_math", "aud", "idprop"}
CORE_THIRD_PARTY = {"numpy"}
ADDON_GLUE = {"__init__.py", "preferences.py", "headless.py"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(name: str, level: int, package: str) -> str:
    if not level:
        return name
    base = package.split(".")[: len(package.split(".")) - level + 1]
    return ".".join([*base, name] if name else base)


def imports_of(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """Every module ``source`` imports, anywhere in it: (line, absolute dotted name)."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(node.module or "", node.level, package)
            found.append((node.lineno, base))
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if not node.module]
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            target = node.args[0].value
            if name in {"import_module", "__import__"} and isinstance(target, str):
                level = len(target) - len(target.lstrip("."))
                found.append((node.lineno, _resolve(target.lstrip("."), level, package)))
    return found


def _sources(package: str):
    for path in sorted((REPO / package).rglob("*.py")):
        yield path, imports_of(path.read_text(), module_name(path), path.name == "__init__.py")


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def test_the_checker_sees_lazy_relative_and_importlib_imports():
    source = (
        "def later():\n    import mathutils\n"
        "from ...scene import build_bpy\n"
        "import importlib\nimportlib.import_module('bpy_extras.io_utils')\n"
        "__import__('inference_server.cli')\n"
    )
    names = {name for _, name in imports_of(source, "crowdmocap_addon.core.result.reader")}
    assert {"mathutils", "crowdmocap_addon.scene"} <= names
    assert {"bpy_extras.io_utils", "inference_server.cli"} <= names


def test_core_is_pure_standard_library_and_numpy():
    allowed = set(sys.stdlib_module_names) | CORE_THIRD_PARTY | {"crowdmocap_addon", "__future__"}
    offences = []
    for path, imported in _sources("crowdmocap_addon/core"):
        for line, name in imported:
            inside_addon = _top(name) == "crowdmocap_addon"
            if (inside_addon and not (name + ".").startswith("crowdmocap_addon.core.")) or _top(name) not in allowed:
                offences.append(f"{path.relative_to(REPO)}:{line} imports {name}")
    assert not offences, "\n".join(offences)


def _offences(package: str, forbidden) -> list[str]:
    return [f"{path.relative_to(REPO)}:{line} imports {name}"
            for path, imported in _sources(package) for line, name in imported if forbidden(name)]  # fmt: skip


def test_the_server_reaches_the_addon_only_through_its_core():
    outside_core = lambda name: _top(name) == "crowdmocap_addon" and not f"{name}.".startswith("crowdmocap_addon.core.")  # noqa: E731
    offences = _offences("inference_server", outside_core)
    assert not offences, "\n".join(offences)


def test_the_addon_never_imports_the_server():
    offences = _offences("crowdmocap_addon", lambda name: _top(name) == "inference_server")
    assert not offences, "\n".join(offences)


@pytest.mark.parametrize("package", ["crowdmocap_addon", "inference_server"])
def test_blender_modules_only_in_the_addons_glue(package):
    """bpy, mathutils, bpy_extras... only in ``*_bpy.py`` and the add-on's register/preferences/headless."""
    offences = []
    for path, imported in _sources(package):
        top_level_glue = path.parent == REPO / package and path.name in ADDON_GLUE
        glue = package == "crowdmocap_addon" and (top_level_glue or path.stem.endswith("_bpy"))
        offences += [f"{path.relative_to(REPO)}:{line} imports {name}" for line, name in imported
                     if _top(name) in BLENDER_MODULES and not glue]  # fmt: skip
    assert not offences, "\n".join(offences)
