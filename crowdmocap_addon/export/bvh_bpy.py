"""BVH from any armature: Y up, with the object's transform (place, turn, scale) applied.

Blender's BVH writer works in armature space only: it ignores the armature object's transform and
writes Blender's axes as they are, while BVH (and Blender's own importer) read Y as up. A CrowdMocap
person's armature space already is SMPL's Y-up frame, so it comes out right; a Blender-native rig
(Z-up armature space, often scaled or moved as an object) re-imported lying on its back, off its place
and at the wrong size. So the writer is handed a temporary copy whose armature space is the file's:
its bones transformed by (Y-up turn · object transform) and its location keys scaled with it.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

import bpy
import numpy as np
from mathutils import Matrix

from ..scene.animation_bpy import channelbag
from .presets import BvhExportError

BVH_FROM_BLENDER = Matrix.Rotation(-math.pi / 2, 4, "X")  # Blender's Z up -> BVH's Y up (the importer's default)
_TOLERANCE = 1e-6


def file_space(armature: bpy.types.Object) -> Matrix:
    """Armature space -> the BVH file's space."""
    return BVH_FROM_BLENDER @ armature.matrix_world


def _uniform_scale(matrix: Matrix, name: str) -> float:
    scale = np.array(matrix.to_scale())
    if np.ptp(scale) > 1e-4 * max(scale.max(), _TOLERANCE):
        raise BvhExportError(f"'{name}' has a non-uniform object scale {tuple(np.round(scale, 4))}: BVH has "
                             "one scale for the whole skeleton; apply the scale to the armature first")  # fmt: skip
    return float(scale.mean())


@contextmanager
def bvh_armature(context: bpy.types.Context, armature: bpy.types.Object) -> Iterator[bpy.types.Object]:
    """The armature to hand to the BVH writer (selected and active): itself when its armature space is
    already the file's, else a temporary copy that is, removed afterwards."""
    to_file = file_space(armature)
    if np.abs(np.array(to_file) - np.eye(4)).max() < _TOLERANCE:
        yield armature
        return
    scale = _uniform_scale(to_file, armature.name)
    copy = armature.copy()
    copy.data = armature.data.copy()
    copy.data.transform(to_file)
    copy.matrix_world = BVH_FROM_BLENDER.inverted()  # where it shows, if it were drawn: over the original
    made: list[bpy.types.ID] = [copy, copy.data]
    animation = armature.animation_data
    if animation is not None and animation.action is not None and animation.action_slot is not None:
        action = animation.action.copy()
        made.append(action)
        copy.animation_data.action = action
        copy.animation_data.action_slot = next(
            s for s in action.slots if s.identifier == animation.action_slot.identifier
        )
        for curve in channelbag(copy).fcurves:
            if curve.data_path.startswith("pose.bones") and curve.data_path.endswith(".location"):
                for point in curve.keyframe_points:  # bone-local offsets in the object's units
                    point.co[1] *= scale
                    point.handle_left[1] *= scale
                    point.handle_right[1] *= scale
    context.scene.collection.objects.link(copy)
    armature.select_set(False)
    copy.select_set(True)
    active = context.view_layer.objects.active
    context.view_layer.objects.active = copy
    try:
        yield copy
    finally:
        context.view_layer.objects.active = active
        armature.select_set(True)
        bpy.data.batch_remove(made)
