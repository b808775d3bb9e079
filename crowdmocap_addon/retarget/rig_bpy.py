"""Read armatures and their animation out of Blender as plain arrays, without stepping the timeline.

The source's pose on every frame comes from its own action: each F-curve's keys are read in bulk
(``foreach_get``) and sampled with ``np.interp`` (exact for the linear keys an import writes; curves with
other interpolation or modifiers are evaluated key by key with ``FCurve.evaluate``), then posed by
forward kinematics in NumPy. No ``frame_set``: a frame change re-evaluates the whole scene.
"""

from __future__ import annotations

import bpy
import numpy as np

from ..core.geometry import quaternion_to_matrix
from ..scene.animation_bpy import curve_keys, curves_by_path, sample_curve
from ..scene.keyframes import CONTACT_LEFT_PROPERTY, CONTACT_RIGHT_PROPERTY, bone_path
from .armature import Skeleton, pose_matrices, topological_order
from .transfer import SourceMotion
from .transforms import axis_angle4_to_matrix, euler_to_matrix

CurveKey = tuple[str, int]  # (data path, array index)


def _matrices(collection, prop: str) -> np.ndarray:
    """(N, 4, 4) row-major from a 4 × 4 matrix property read in bulk (Blender stores them column-major)."""
    flat = np.empty(len(collection) * 16, dtype=np.float32)
    collection.foreach_get(prop, flat)
    return np.swapaxes(flat.reshape(-1, 4, 4), 1, 2).astype(np.float64)


def _copied_bone(obj: bpy.types.Object, pose_bone: bpy.types.PoseBone) -> str | None:
    """The bone whose pose this one takes: its only active constraint is a full Copy Transforms from a bone of
    the same armature, owner and target in the same space (world or pose): Rigify's ORG bones."""
    active = [c for c in pose_bone.constraints if c.enabled and c.influence > 0.0]
    if len(active) != 1 or active[0].type != "COPY_TRANSFORMS":
        return None
    copy = active[0]
    same_space = copy.target_space == copy.owner_space and copy.owner_space in {"WORLD", "POSE"}
    if copy.target is not obj or not copy.subtarget or copy.influence < 1.0 or not same_space:
        return None
    return copy.subtarget if copy.subtarget in obj.data.bones and copy.mix_mode == "REPLACE" else None


def object_matrix(obj: bpy.types.Object) -> np.ndarray:
    """(4, 4) the object's world matrix from its own transform and its parents'.

    Not ``matrix_world``: that is only as fresh as the last evaluation, and objects hidden at the current
    frame (people not on screen yet) are not evaluated; right after opening a file it can be the identity.
    """
    basis = np.array(obj.matrix_basis, dtype=np.float64)
    parent = obj.parent
    if parent is None:
        return basis
    if obj.parent_type != "OBJECT":  # parented to a bone or vertices: trust Blender's last evaluation
        return np.array(obj.matrix_world, dtype=np.float64)
    return object_matrix(parent) @ np.array(obj.matrix_parent_inverse, dtype=np.float64) @ basis


def skeleton_of(obj: bpy.types.Object) -> Skeleton:
    """The armature's rest skeleton (bones sorted parents first) and its object's world matrix."""
    bones = obj.data.bones
    names = [bone.name for bone in bones]
    lookup = {name: index for index, name in enumerate(names)}
    parents = [lookup[bone.parent.name] if bone.parent else -1 for bone in bones]
    copied = [_copied_bone(obj, obj.pose.bones[name]) for name in names]
    copies = [lookup[name] if name is not None else -1 for name in copied]
    order = topological_order(parents, copies)
    new_index = {old: new for new, old in enumerate(order)}
    rest = _matrices(bones, "matrix_local")[order]
    inherit = np.empty(len(bones), dtype=bool)
    bones.foreach_get("use_inherit_rotation", inherit)
    return Skeleton(
        names=tuple(names[old] for old in order),
        parents=tuple(new_index[parents[old]] if parents[old] >= 0 else -1 for old in order),
        rest=rest,
        object_matrix=object_matrix(obj),
        inherit_rotation=tuple(bool(inherit[old]) for old in order),
        copies=tuple(new_index[copies[old]] if copies[old] >= 0 else -1 for old in order),
    )


def keyed_frame_range(curves: dict[CurveKey, bpy.types.FCurve]) -> tuple[int, int] | None:
    """First and last keyed frame over the pose-bone curves, or None when nothing is keyed."""
    first, last = np.inf, -np.inf
    for (path, _), fcurve in curves.items():
        if path.startswith("pose.bones[") and len(fcurve.keyframe_points):
            keys, _ = curve_keys(fcurve)
            first, last = min(first, keys.min()), max(last, keys.max())
    if not np.isfinite(first):
        return None
    return int(np.floor(first)), int(np.ceil(last))


def _channel(curves, pose_bone, prop: str, size: int, frames: np.ndarray) -> np.ndarray:
    """(T, size) one pose-bone property on every frame: from its curves, else its current (static) value."""
    static = np.array(getattr(pose_bone, prop), dtype=np.float64)
    out = np.tile(static, (len(frames), 1))
    for axis in range(size):
        fcurve = curves.get((bone_path(pose_bone.name, prop), axis))
        if fcurve is not None and len(fcurve.keyframe_points):
            out[:, axis] = sample_curve(fcurve, frames)
    return out


def basis_rotations(curves, pose_bone, frames: np.ndarray) -> np.ndarray:
    """(T, 3, 3) the pose bone's rotation channel on every frame, in whatever rotation mode it uses."""
    mode = pose_bone.rotation_mode
    if mode == "QUATERNION":
        return quaternion_to_matrix(_channel(curves, pose_bone, "rotation_quaternion", 4, frames))
    if mode == "AXIS_ANGLE":
        return axis_angle4_to_matrix(_channel(curves, pose_bone, "rotation_axis_angle", 4, frames))
    return euler_to_matrix(_channel(curves, pose_bone, "rotation_euler", 3, frames), mode)


def source_motion(obj: bpy.types.Object, skeleton: Skeleton | None = None) -> SourceMotion | None:
    """The person's pose on every frame of its keyed range, and its foot contacts; None if not animated."""
    skeleton = skeleton or skeleton_of(obj)
    curves = curves_by_path(obj)
    keyed = keyed_frame_range(curves)
    if keyed is None:
        return None
    frames = np.arange(keyed[0], keyed[1] + 1, dtype=np.float64)
    count = len(skeleton.names)
    rotations = np.empty((len(frames), count, 3, 3))
    locations = np.empty((len(frames), count, 3))
    for bone, name in enumerate(skeleton.names):
        pose_bone = obj.pose.bones[name]
        rotations[:, bone] = basis_rotations(curves, pose_bone, frames)
        locations[:, bone] = _channel(curves, pose_bone, "location", 3, frames)
    contacts = None
    paths = [(f'["{name}"]', 0) for name in (CONTACT_LEFT_PROPERTY, CONTACT_RIGHT_PROPERTY)]
    if all(path in curves for path in paths):
        contacts = np.stack([sample_curve(curves[path], frames) for path in paths], axis=1)
    return SourceMotion(skeleton=skeleton, frames=frames, pose=pose_matrices(skeleton, rotations, locations),
                        contacts=contacts)  # fmt: skip


def visibility_keys(obj: bpy.types.Object) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The object's keyed ``hide_viewport`` / ``hide_render`` curves as {path: (frames, values)}."""
    curves = curves_by_path(obj)
    return {path: curve_keys(curves[(path, 0)]) for path in ("hide_viewport", "hide_render") if (path, 0) in curves}
