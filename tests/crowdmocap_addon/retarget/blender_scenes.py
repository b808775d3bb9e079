"""Helpers for the Blender retarget tests: imported people, evaluated bone heads, segment angles, curves."""

from __future__ import annotations

import numpy as np

from crowdmocap_addon.core.joints import JOINT_NAMES
from crowdmocap_addon.retarget.transfer import AIM_CHILD
from crowdmocap_addon.scene.build_bpy import import_result
from tests.crowdmocap_addon.retarget.motion import angle_deg
from tests.crowdmocap_addon.scene.scenes import write


def import_people(bpy, tmp_path, capture) -> list:
    return import_result(bpy.context, write(tmp_path, capture)).armatures


def heads(bpy, obj, names, frame: int) -> dict[str, np.ndarray]:
    """World-space heads of the named pose bones, evaluated at a scene frame."""
    bpy.context.scene.frame_set(frame)
    world = np.array(obj.matrix_world)
    return {name: world[:3, :3] @ np.array(obj.pose.bones[name].head) + world[:3, 3] for name in names}


def keyed_frames(person) -> np.ndarray:
    """The person's keyed scene frames (heads of a hidden person are not evaluated outside them)."""
    strip = person.animation_data.action.layers[0].strips[0]
    fcurve = strip.channelbag(person.animation_data.action_slot).fcurves[0]
    return np.array([round(point.co[0]) for point in fcurve.keyframe_points], dtype=int)


def sample_frames(person, count: int = 4) -> list[int]:
    frames = keyed_frames(person)
    return sorted({int(frames[i]) for i in np.linspace(0, len(frames) - 1, count).round().astype(int)})


def segment_errors(bpy, person, rig, bone_map: dict[str, str], frames) -> dict[str, float]:
    """Worst angle (degrees) over ``frames`` between each mapped segment of the rig and the person's."""
    worst: dict[str, float] = {}
    pairs = [(j, AIM_CHILD[i]) for i, j in enumerate(JOINT_NAMES) if j in bone_map and AIM_CHILD[i] is not None]
    pairs = [(j, JOINT_NAMES[k]) for j, k in pairs if JOINT_NAMES[k] in bone_map]
    for frame in frames:
        source = heads(bpy, person, JOINT_NAMES, frame)
        target = heads(bpy, rig, set(bone_map.values()), frame)
        for joint, child in pairs:
            got = target[bone_map[child]] - target[bone_map[joint]]
            angle = float(angle_deg(got, source[child] - source[joint]))
            worst[joint] = max(worst.get(joint, 0.0), angle)
    return worst


def fcurves(obj):
    animation = obj.animation_data
    strip = animation.action.layers[0].strips[0]
    return strip.channelbag(animation.action_slot).fcurves


def keyed_bones(obj) -> set[str]:
    return {fc.data_path.split('"')[1] for fc in fcurves(obj) if fc.data_path.startswith("pose.bones[")}


def constraint_count(obj) -> int:
    return len(obj.constraints) + sum(len(bone.constraints) for bone in obj.pose.bones)
