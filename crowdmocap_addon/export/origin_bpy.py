"""Start a clip at the origin, facing forward, by re-keying its root-motion bone for the export.

Moving the armature object instead would look the same in Blender, but an engine builds its avatar from
the file's rest pose under that object: a turned object turns the avatar's rest with it, so a Humanoid
clip would still start turned. The keys are changed instead, on a temporary copy of the action that is
assigned only while exporting (the scene's own action is never touched).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import bpy
import numpy as np
from mathutils import Matrix

from ..scene.animation_bpy import channelbag, curve_keys
from .placement import start_transform

_ROTATION_PATHS = {"QUATERNION": "rotation_quaternion", "AXIS_ANGLE": "rotation_axis_angle"}


def hips_bone(armature: bpy.types.Object) -> bpy.types.PoseBone:
    """The bone that carries the root motion: the top-most one with keyed location, else the first root."""
    bag = channelbag(armature)
    keyed = set() if bag is None else {
        curve.data_path.split('"')[1] for curve in bag.fcurves
        if curve.data_path.startswith("pose.bones") and curve.data_path.endswith(".location")
    }  # fmt: skip
    bones = armature.pose.bones
    ranked = sorted((b for b in bones if b.name in keyed), key=lambda b: len(b.parent_recursive))
    return ranked[0] if ranked else next(b for b in bones if b.parent is None)


def origin_move(context: bpy.types.Context, armature: bpy.types.Object, first_frame: int) -> np.ndarray:
    """The world move (4x4) that puts the hips' first frame over the origin facing as the rig does at rest."""
    context.scene.frame_set(first_frame)
    hips = hips_bone(armature)
    world = np.array(armature.matrix_world)
    return start_transform(world @ np.array(hips.matrix), world @ np.array(hips.bone.matrix_local))


def _basis_at(armature: bpy.types.Object, hips: bpy.types.PoseBone, move: np.ndarray) -> tuple[Matrix, Matrix]:
    """The hips' pose-space matrix now, and the local (basis) matrix that puts it where ``move`` takes it."""
    world = np.array(armature.matrix_world)
    in_armature = np.linalg.inv(world) @ move @ world  # the world move, seen in armature space
    wanted = Matrix((in_armature @ np.array(hips.matrix)).tolist())
    return wanted, armature.convert_space(pose_bone=hips, matrix=wanted, from_space="POSE", to_space="LOCAL")


def _rekeyed(context: bpy.types.Context, armature: bpy.types.Object, move: np.ndarray) -> bpy.types.Action:
    """A copy of the armature's action whose hips keys are moved by ``move`` (keys at the same frames)."""
    hips = hips_bone(armature)
    base = f'pose.bones["{hips.name}"]'
    rotation_path = _ROTATION_PATHS.get(hips.rotation_mode, "rotation_euler")
    curves = {(c.data_path, c.array_index): c for c in channelbag(armature).fcurves}
    location = [curves.get((f"{base}.location", i)) for i in range(3)]
    width = 4 if rotation_path != "rotation_euler" else 3
    rotation = [curves.get((f"{base}.{rotation_path}", i)) for i in range(width)]
    keyed = [c for c in location + rotation if c is not None]
    frames = sorted({round(f) for c in keyed for f in curve_keys(c)[0]})
    values: dict[int, tuple[list[float], list[float]]] = {}
    previous_q, previous_euler = None, None
    for frame in frames:
        context.scene.frame_set(frame)
        _, basis = _basis_at(armature, hips, move)
        loc, q, _ = basis.decompose()
        if previous_q is not None and previous_q.dot(q) < 0:
            q.negate()  # keep quaternion keys sign-continuous
        previous_q = q
        if rotation_path == "rotation_quaternion":
            turned = list(q)
        elif rotation_path == "rotation_axis_angle":
            axis, angle = q.to_axis_angle()
            turned = [angle, *axis]
        else:
            euler = q.to_euler(hips.rotation_mode, previous_euler) if previous_euler else q.to_euler(hips.rotation_mode)
            previous_euler, turned = euler, list(euler)
        values[frame] = (list(loc), turned)
    copy = armature.animation_data.action.copy()
    slot = armature.animation_data.action_slot
    armature.animation_data.action = copy
    armature.animation_data.action_slot = next(s for s in copy.slots if s.identifier == slot.identifier)
    bag = channelbag(armature)
    moved = {(c.data_path, c.array_index): c for c in bag.fcurves}
    for paths, kind in (([f"{base}.location"] * 3, 0), ([f"{base}.{rotation_path}"] * width, 1)):
        for index, path in enumerate(paths):
            curve = moved.get((path, index))
            if curve is None:
                continue
            for point in curve.keyframe_points:
                new = values.get(round(point.co[0]))
                if new is not None:
                    shift = new[kind][index] - point.co[1]
                    point.co[1] += shift
                    point.handle_left[1] += shift
                    point.handle_right[1] += shift
            curve.update()
    return copy


@contextmanager
def started_at_origin(context: bpy.types.Context, armature: bpy.types.Object, first_frame: int) -> Iterator[None]:
    """While exporting, the armature plays a copy of its action that starts at the origin facing forward.

    The hips' keys must cover the clip (every CrowdMocap person and retargeted character keys them on
    every frame); a rig whose hips are not keyed is exported as it is.
    """
    animation = armature.animation_data
    if animation is None or animation.action is None or animation.action_slot is None:
        yield
        return
    action, slot = animation.action, animation.action_slot
    move = origin_move(context, armature, first_frame)
    copy = _rekeyed(context, armature, move)
    try:
        yield
    finally:
        animation.action = action
        animation.action_slot = slot
        bpy.data.actions.remove(copy)
