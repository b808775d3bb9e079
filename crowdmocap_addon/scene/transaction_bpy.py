"""All-or-nothing imports: every datablock made is recorded and removed again if the import fails."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import bpy

IdT = TypeVar("IdT", bound=bpy.types.ID)

_RENDER_SETTINGS = ("fps", "fps_base", "resolution_x", "resolution_y", "resolution_percentage", "pixel_aspect_x",
                    "pixel_aspect_y")  # fmt: skip
_SCENE_SETTINGS = ("frame_start", "frame_end", "camera")


class CreatedData:
    """The datablocks (objects, armatures, meshes, actions, camera, clips, collection) one import made."""

    def __init__(self) -> None:
        self._ids: list[bpy.types.ID] = []

    def add(self, datablock: IdT) -> IdT:
        self._ids.append(datablock)
        return datablock

    def remove_all(self) -> None:
        """Delete them all in one go; objects first is not needed, batch_remove unlinks users itself."""
        alive = [datablock for datablock in self._ids if _is_alive(datablock)]
        self._ids.clear()
        if alive:
            bpy.data.batch_remove(alive)


def _is_alive(datablock: bpy.types.ID) -> bool:
    try:
        return datablock.name is not None
    except ReferenceError:  # already freed
        return False


@dataclass(frozen=True)
class _SceneSnapshot:
    render: dict[str, Any]
    scene: dict[str, Any]

    @classmethod
    def of(cls, scene: bpy.types.Scene) -> _SceneSnapshot:
        return cls(
            render={name: getattr(scene.render, name) for name in _RENDER_SETTINGS},
            scene={name: getattr(scene, name) for name in _SCENE_SETTINGS},
        )

    def restore(self, scene: bpy.types.Scene) -> None:
        for name, value in self.render.items():
            setattr(scene.render, name, value)
        for name, value in self.scene.items():
            setattr(scene, name, value)


def leave_edit_modes(context: bpy.types.Context) -> None:
    """Back to Object Mode, so new objects can be selected and edited (the import needs Edit Mode itself)."""
    if context.mode != "OBJECT" and context.view_layer.objects.active is not None:
        bpy.ops.object.mode_set(mode="OBJECT")


@contextmanager
def transaction(context: bpy.types.Context) -> Iterator[CreatedData]:
    """Yield a CreatedData; on any exception remove what it holds, restore the scene settings, re-raise."""
    scene = context.scene
    snapshot = _SceneSnapshot.of(scene)
    created = CreatedData()
    try:
        yield created
    except BaseException:
        leave_edit_modes(context)
        created.remove_all()
        snapshot.restore(scene)
        raise
