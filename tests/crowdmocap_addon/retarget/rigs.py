"""Test rigs with the presets' bone names and their own rest poses, as plain data (and as Blender armatures).

- ``mixamo_rig``: T-pose, the stand-in's proportions, bones along their segments with assorted rolls,
  plus unmapped end and finger bones;
- ``ue5_rig``: A-pose (arms 45° down, elbows bent 15°), longer legs and shorter arms, random rolls, a root
  bone on the floor, five spine bones, two neck bones and twist bones; its object is scaled 0.01 with bones
  in centimetres and moved off the origin, as an FBX import is;
- ``unity_rig``: T-pose with Y-up armature data in an object turned +90° about X (an FBX without axis
  conversion), and a ``Root`` bone;
- ``smpl_rig``: the SMPL names on the stand-in skeleton with rolled bones.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from crowdmocap_addon.core.body.standin import STANDIN_REST_JOINTS
from crowdmocap_addon.core.geometry import swing_rotation
from crowdmocap_addon.core.joints import JOINT_NAMES, PARENTS
from crowdmocap_addon.retarget.armature import Skeleton, topological_order
from crowdmocap_addon.retarget.presets import builtin_presets, find_preset
from crowdmocap_addon.retarget.transfer import AIM_CHILD
from crowdmocap_addon.scene.axes import SMPL_TO_BLENDER

J = {name: index for index, name in enumerate(JOINT_NAMES)}


@dataclass(kw_only=True, frozen=True)
class BoneSpec:
    name: str
    parent: str | None
    head: np.ndarray  # (3,) armature space
    tail: np.ndarray
    roll: float


@dataclass(frozen=True)
class RigSpec:
    name: str
    preset: str
    bones: list[BoneSpec]
    object_matrix: np.ndarray  # (4, 4)

    def bone_map(self) -> dict[str, str]:
        return dict(find_preset(self.preset, builtin_presets()).bones)


def world_joints(
    *, arm_drop_deg: float = 0.0, elbow_bend_deg: float = 0.0, legs: float = 1.0, arms: float = 1.0, torso: float = 1.0
) -> np.ndarray:
    """(24, 3) stand-in joints in a Z-up world facing -Y, feet on the floor, reshaped as asked."""
    rest = np.asarray(STANDIN_REST_JOINTS, dtype=np.float64)
    joints = rest @ SMPL_TO_BLENDER.T  # Y up -> Z up
    offsets = np.zeros_like(joints)
    for joint in range(1, 24):
        offsets[joint] = joints[joint] - joints[PARENTS[joint]]
    leg = {J[f"{s}_{p}"] for s in ("left", "right") for p in ("knee", "ankle", "foot")}
    arm = {J[f"{s}_{p}"] for s in ("left", "right") for p in ("elbow", "wrist", "hand")}
    spine = {J[name] for name in ("spine1", "spine2", "spine3", "neck", "head")}
    for joint in range(1, 24):
        offsets[joint] *= legs if joint in leg else arms if joint in arm else torso if joint in spine else 1.0
    for side, sign in (("left", 1.0), ("right", -1.0)):
        drop = _about_y(sign * np.radians(arm_drop_deg))
        bend = _about_z(-sign * np.radians(elbow_bend_deg))  # forearm swings forward (towards -Y)
        for joint in ("elbow", "wrist", "hand"):
            offsets[J[f"{side}_{joint}"]] = drop @ offsets[J[f"{side}_{joint}"]]
        for joint in ("wrist", "hand"):
            offsets[J[f"{side}_{joint}"]] = drop @ bend @ drop.T @ offsets[J[f"{side}_{joint}"]]
    out = np.zeros_like(joints)
    out[0] = joints[0]
    for joint in range(1, 24):
        out[joint] = out[PARENTS[joint]] + offsets[joint]
    out[:, 2] -= out[[J["left_foot"], J["right_foot"]], 2].min() - 0.03  # balls of the feet 3 cm up
    return out


def _about_y(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])


def _about_z(angle: float) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def _segments(joints: np.ndarray, names: dict[str, str], rolls: np.ndarray) -> list[BoneSpec]:
    """One bone per mapped joint, head at the joint, tail at its aim child (or continuing its parent)."""
    bones = []
    for joint, smpl in enumerate(JOINT_NAMES):
        if smpl not in names:
            continue
        child = AIM_CHILD[joint]
        continued = joints[joint] + 0.5 * (joints[joint] - joints[PARENTS[joint]])
        tail = joints[child] if child is not None else continued
        parent = PARENTS[joint]
        while parent >= 0 and JOINT_NAMES[parent] not in names:
            parent = PARENTS[parent]
        parent_name = names[JOINT_NAMES[parent]] if parent >= 0 else None
        bones.append(
            BoneSpec(name=names[smpl], parent=parent_name, head=joints[joint], tail=tail, roll=float(rolls[joint]))
        )
    return bones


def _extra(bones: list[BoneSpec], name: str, parent: str, head: np.ndarray, tail: np.ndarray, roll: float = 0.0):
    bones.append(
        BoneSpec(
            name=name,
            parent=parent,
            head=np.asarray(head, dtype=np.float64),
            tail=np.asarray(tail, dtype=np.float64),
            roll=roll,
        )
    )


def _ordered(bones: list[BoneSpec]) -> list[BoneSpec]:
    """Parents before children, as a Skeleton needs."""
    names = [bone.name for bone in bones]
    return [bones[i] for i in topological_order([names.index(b.parent) if b.parent else -1 for b in bones])]


def _by_name(bones: list[BoneSpec]) -> dict[str, BoneSpec]:
    return {bone.name: bone for bone in bones}


def _to_armature(bones: list[BoneSpec], object_matrix: np.ndarray) -> list[BoneSpec]:
    inverse = np.linalg.inv(object_matrix)
    move = lambda p: inverse[:3, :3] @ p + inverse[:3, 3]  # noqa: E731
    return [BoneSpec(name=b.name, parent=b.parent, head=move(b.head), tail=move(b.tail), roll=b.roll) for b in bones]


def mixamo_rig() -> RigSpec:
    names = find_preset("mixamo", builtin_presets()).bones
    joints = world_joints()
    rolls = np.where(np.arange(24) % 3 == 0, 0.0, np.linspace(-2.5, 2.5, 24))  # Y along the bone, assorted rolls
    bones = _segments(joints, names, rolls)
    by = _by_name(bones)
    head = by["mixamorig:Head"]
    _extra(bones, "mixamorig:HeadTop_End", "mixamorig:Head", head.tail, head.tail + [0, 0, 0.1])
    for side in ("Left", "Right"):
        hand = by[f"mixamorig:{side}Hand"]
        _extra(bones, f"mixamorig:{side}HandMiddle1", hand.name, hand.tail, hand.tail + (hand.tail - hand.head) * 0.4)
        toe = by[f"mixamorig:{side}ToeBase"]
        _extra(bones, f"mixamorig:{side}Toe_End", toe.name, toe.tail, toe.tail + [0, -0.04, 0])
    return RigSpec("MixamoLike", "mixamo", _ordered(bones), np.eye(4))


def ue5_rig() -> RigSpec:
    names = dict(find_preset("ue5", builtin_presets()).bones)
    joints = world_joints(arm_drop_deg=45.0, elbow_bend_deg=15.0, legs=1.12, arms=0.93, torso=0.97)
    rolls = np.random.default_rng(5).uniform(-np.pi, np.pi, 24)
    bones = _segments(joints, names, rolls)
    by = _by_name(bones)
    # Five spine bones and two neck bones over SMPL's three and one: insert the in-between ones.
    inserts = (("spine_02", "spine_01", "spine_03"), ("spine_04", "spine_03", "spine_05"))
    for name, lower, upper in (*inserts, ("neck_02", "neck_01", "head")):
        mid = 0.5 * (by[lower].head + by[upper].head)
        bones[bones.index(by[lower])] = BoneSpec(
            name=lower, parent=by[lower].parent, head=by[lower].head, tail=mid, roll=by[lower].roll
        )
        _extra(bones, name, lower, mid, by[upper].head, roll=0.3)
        by = _by_name(bones)
        bones[bones.index(by[upper])] = BoneSpec(
            name=upper, parent=name, head=by[upper].head, tail=by[upper].tail, roll=by[upper].roll
        )
        by = _by_name(bones)
    for side in ("l", "r"):  # unmapped extras: twist, finger and IK bones
        upper = by[f"upperarm_{side}"]
        _extra(bones, f"upperarm_twist_01_{side}", upper.name, 0.5 * (upper.head + upper.tail), upper.tail, 1.0)
        hand = by[f"hand_{side}"]
        _extra(bones, f"middle_01_{side}", hand.name, hand.tail, hand.tail + (hand.tail - hand.head) * 0.4, -0.4)
        _extra(bones, f"ik_foot_{side}", "root", by[f"foot_{side}"].head, by[f"foot_{side}"].head + [0, 0, 0.1])
    _extra(bones, "root", None, [0.0, 0.0, 0.0], [0.0, -0.2, 0.0])
    pelvis = by["pelvis"]
    bones[bones.index(pelvis)] = BoneSpec(
        name="pelvis", parent="root", head=pelvis.head, tail=pelvis.tail, roll=pelvis.roll
    )
    matrix = np.diag([0.01, 0.01, 0.01, 1.0])  # bones in centimetres, as an FBX import makes them
    matrix[:3, 3] = [0.5, -0.3, 0.0]
    moved = [
        BoneSpec(name=b.name, parent=b.parent, head=b.head + matrix[:3, 3], tail=b.tail + matrix[:3, 3], roll=b.roll)
        for b in bones
    ]
    return RigSpec("UE5Like", "ue5", _ordered(_to_armature(moved, matrix)), matrix)


def unity_rig() -> RigSpec:
    names = find_preset("unity", builtin_presets()).bones
    joints = world_joints(legs=0.95, arms=1.05)
    bones = _segments(joints, names, np.linspace(0.0, 1.5, 24))
    _extra(bones, "Root", None, [0.0, 0.0, 0.0], [0.0, -0.2, 0.0])
    hips = _by_name(bones)["Hips"]
    bones[bones.index(hips)] = BoneSpec(name="Hips", parent="Root", head=hips.head, tail=hips.tail, roll=hips.roll)
    matrix = np.eye(4)
    matrix[:3, :3] = SMPL_TO_BLENDER  # +90° about X: the armature's data is Y up
    return RigSpec("UnityLike", "unity", _ordered(_to_armature(bones, matrix)), matrix)


def smpl_rig() -> RigSpec:
    names = {name: name for name in JOINT_NAMES}
    bones = _segments(world_joints(legs=1.05), names, np.linspace(-1.0, 1.0, 24))
    return RigSpec("SmplLike", "smpl", bones, np.eye(4))


def unknown_rig() -> RigSpec:
    names = {name: f"bone_{index:03d}" for index, name in enumerate(JOINT_NAMES)}
    bones = _segments(world_joints(), names, np.zeros(24))
    return RigSpec("Mystery", "", bones, np.eye(4))


RIGS = {"mixamo": mixamo_rig, "ue5": ue5_rig, "unity": unity_rig, "smpl": smpl_rig}


def rest_matrix(head: np.ndarray, tail: np.ndarray, roll: float) -> np.ndarray:
    """(4, 4) a bone's rest matrix as Blender builds it: Y along head -> tail, then ``roll`` about Y."""
    axis = np.asarray(tail, dtype=np.float64) - head
    # Blender's vec_roll_to_mat3: the smallest rotation from +Y onto the bone (exact except within ~0.1° of -Y).
    rotation = swing_rotation(np.array([0.0, 1.0, 0.0]), axis)
    c, s = np.cos(roll), np.sin(roll)
    rotation = rotation @ np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
    out = np.eye(4)
    out[:3, :3] = rotation
    out[:3, 3] = head
    return out


def skeleton(spec: RigSpec) -> Skeleton:
    """The pure-NumPy skeleton of a spec (bones in spec order: parents come first)."""
    names = tuple(bone.name for bone in spec.bones)
    parents = tuple(names.index(bone.parent) if bone.parent else -1 for bone in spec.bones)
    rest = np.stack([rest_matrix(bone.head, bone.tail, bone.roll) for bone in spec.bones])
    return Skeleton(names=names, parents=parents, rest=rest, object_matrix=spec.object_matrix)


def build_armature(bpy, spec: RigSpec, name: str | None = None):
    """The spec as a Blender armature object linked to the scene (Object Mode afterwards)."""
    from mathutils import Matrix

    data = bpy.data.armatures.new(name or spec.name)
    obj = bpy.data.objects.new(name or spec.name, data)
    bpy.context.scene.collection.objects.link(obj)
    obj.matrix_world = Matrix([list(row) for row in spec.object_matrix])
    for other in bpy.context.view_layer.objects.selected:
        other.select_set(False)
    obj.select_set(True)
    bpy.context.view_layer.objects.active = obj
    bpy.ops.object.mode_set(mode="EDIT")
    edit = {}
    for bone in spec.bones:
        made = data.edit_bones.new(bone.name)
        made.head, made.tail, made.roll = tuple(bone.head), tuple(bone.tail), bone.roll
        edit[bone.name] = made
    for bone in spec.bones:
        if bone.parent:
            edit[bone.name].parent = edit[bone.parent]
    bpy.ops.object.mode_set(mode="OBJECT")
    return obj
