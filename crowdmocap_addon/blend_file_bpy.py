"""What every headless command that writes a scene shares: saving the .blend and reporting on stderr."""

from __future__ import annotations

import sys
from pathlib import Path

import bpy


class SceneSaveError(OSError):
    """Blender could not write the .blend file."""


def report_to_stderr(level: str, message: str) -> None:
    """The builders' ``report(level, message)`` callback for command lines."""
    print(f"crowdmocap-blender: {level.lower()}: {message}", file=sys.stderr)


def save_blend(path: Path) -> Path:
    """Save the open scene to ``path`` (folders created); SceneSaveError says why it could not."""
    out = path.expanduser().resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        bpy.ops.wm.save_as_mainfile(filepath=str(out))
    except RuntimeError as exc:
        raise SceneSaveError(f"cannot write {out}: {exc}") from exc
    return out


def open_blend(path: Path) -> None:
    """Open a .blend as the current scene; FileNotFoundError (a clean exit 1) when it is not there."""
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such .blend file")
    bpy.ops.wm.open_mainfile(filepath=str(path))
