"""The pipeline's stages depend one way, read from the AST (relative and in-function imports included).

- ``poses2d`` never imports ``tracking``: the tracker consumes poses, so poses cannot need the tracker
  (box geometry both use lives in ``poses2d.boxes``).
- The ONNX backends (RTMO, RTMPose) do not import the BlazePose backend, which needs mediapipe.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.test_import_boundaries import imports_of, module_name

POSES2D = REPO / "inference_server" / "poses2d"


def _imports(path: Path) -> list[tuple[int, str]]:
    return imports_of(path.read_text(), module_name(path), path.name == "__init__.py")


def _offences(paths: list[Path], forbidden: str) -> list[str]:
    return [f"{path.relative_to(REPO)}:{line} imports {name}" for path in paths for line, name in _imports(path)
            if (name + ".").startswith(forbidden + ".")]  # fmt: skip


def test_the_checker_resolves_relative_imports_inside_functions():
    source = "def later():\n    from ..tracking.similarity import keypoint_similarity\n    from . import blazepose\n"
    names = {name for _, name in imports_of(source, "inference_server.poses2d.onnx_models")}
    assert {"inference_server.tracking.similarity", "inference_server.poses2d.blazepose"} <= names


def test_poses2d_never_imports_tracking():
    paths = sorted(POSES2D.rglob("*.py"))
    assert len(paths) >= 5  # the package was found
    offences = _offences(paths, "inference_server.tracking")
    assert not offences, "\n".join(offences)


def test_onnx_backends_do_not_import_blazepose():
    offences = _offences([POSES2D / "onnx_models.py"], "inference_server.poses2d.blazepose")
    assert not offences, "\n".join(offences)
