"""Armatures: one per person, 24 SMPL bones at that person's exact rest joints."""

from __future__ import annotations

from collections.abc import Sequence

import bpy
import numpy as np
from mathutils import Matrix

from ..core.joints import JOINT_NAMES, PARENTS
from ..core.result.schema import CapturedPerson
from .axes import SMPL_TO_BLENDER
from .names import person_name
from .record import PERSON_CAPTURE, PERSON_ID, PERSON_NUMBER, PERSON_TRACKS
from .rig import bone_tails
from .transaction_bpy import CreatedData

PERSON_ID_PROPERTY = PERSON_ID


def armature_object_matrix() -> Matrix:
    """The armature object's world matrix: at the origin, turned from SMPL's Y up to Blender's Z up."""
    out = np.eye(4)
    out[:3, :3] = SMPL_TO_BLENDER
    return Matrix(out.tolist())


def create_armature_objects(
    tracks: Sequence[CapturedPerson],
    numbers: Sequence[int],
    label: str,
    collection: bpy.types.Collection,
    created: CreatedData,
) -> list[bpy.types.Object]:
    """One empty armature object per person, linked into the capture's collection (bones come next)."""
    objects = []
    for track, number in zip(tracks, numbers, strict=True):
        name = person_name(label, number)
        armature = created.add(bpy.data.armatures.new(name))
        armature.display_type = "STICK"
        obj = created.add(bpy.data.objects.new(name, armature))
        collection.objects.link(obj)
        obj.matrix_world = armature_object_matrix()
        obj[PERSON_ID] = int(track.id)
        obj[PERSON_TRACKS] = str(int(track.id))
        obj[PERSON_NUMBER] = int(number)
        obj[PERSON_CAPTURE] = label
        objects.append(obj)
    return objects


def _add_bones(armature: bpy.types.Armature, rest_joints: np.ndarray) -> None:
    tails = bone_tails(rest_joints)
    bones = []
    for joint, name in enumerate(JOINT_NAMES):
        bone = armature.edit_bones.new(name)
        bone.head = tuple(float(v) for v in rest_joints[joint])
        bone.tail = tuple(float(v) for v in tails[joint])
        bone.roll = 0.0
        bone.use_deform = True
        if PARENTS[joint] >= 0:
            bone.parent = bones[PARENTS[joint]]
            bone.use_connect = False
        bones.append(bone)


def build_bones(
    context: bpy.types.Context, objects: Sequence[bpy.types.Object], tracks: Sequence[CapturedPerson]
) -> None:
    """Add every person's bones in one multi-object Edit Mode session (one toggle per person is quadratic)."""
    if not objects:
        return
    view_layer = context.view_layer
    for obj in view_layer.objects.selected:
        obj.select_set(False)
    for obj in objects:
        obj.select_set(True)
    view_layer.objects.active = objects[0]
    bpy.ops.object.mode_set(mode="EDIT")
    try:
        for obj, track in zip(objects, tracks, strict=True):
            _add_bones(obj.data, np.asarray(track.rest_joints, dtype=np.float64))
    finally:
        bpy.ops.object.mode_set(mode="OBJECT")
