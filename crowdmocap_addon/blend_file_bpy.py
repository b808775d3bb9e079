"""What the headless commands share: opening and saving the .blend, picking people, reporting on stderr."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
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


def pick_armatures(
    scene_file: Path, keep: Callable[[bpy.types.Object], bool], names: Sequence[str] | None, what: str
) -> list[bpy.types.Object]:
    """The open scene's armatures that ``keep`` accepts, sorted by name, only those in ``names`` when given
    (``--person``); FileNotFoundError (a clean exit 1) names the scene when none is left."""
    found = sorted((o for o in bpy.context.scene.objects if o.type == "ARMATURE" and keep(o)), key=lambda o: o.name)
    if names:
        wanted = set(names)
        found = [obj for obj in found if obj.name in wanted]
    if not found:
        raise FileNotFoundError(f"{scene_file}: no {what}" + (" among --person" if names else ""))
    return found
