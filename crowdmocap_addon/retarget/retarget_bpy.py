"""Retarget CrowdMocap people onto a rig: the one worker the operator and the headless CLI call.

Sources are CrowdMocap armatures; the target is any armature. Either the target itself is animated (one
source), or one copy of it (armature + child meshes) is made per person. Each result is baked into a new
layered action, every frame, in bulk (``keyframe_points.add`` + ``foreach_set``); nothing else is left in
the scene: no constraints, no helper objects. All or nothing: a failure removes what was made and puts
the target's previous action and pose back.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import bpy
import numpy as np

from ..core.geometry import rotation_angle
from ..core.joints import JOINT_NAMES
from ..core.options import RETARGET_OPTIONS
from ..scene.animation_bpy import animate
from ..scene.armature_bpy import PERSON_ID_PROPERTY
from ..scene.keyframes import Channel
from ..scene.record import RETARGET_SOURCE, RETARGET_TEMPLATE
from ..scene.transaction_bpy import CreatedData, leave_edit_modes, transaction
from . import channels as channel_maths
from .armature import Skeleton
from .presets import BoneMap, detect, find_preset, resolve
from .presets_bpy import all_presets
from .rig_bpy import skeleton_of, source_motion, visibility_keys
from .transfer import RetargetedMotion, RetargetError, RetargetOptions, TargetRig, retarget_motion
from .transforms import rotation_part

Report = Callable[[str, str], None]  # (level "INFO" | "WARNING", message)
CONSTRAINT_TOLERANCE_DEG = 1.0
_CHECK_TARGETS = 3


@dataclass
class RetargetResult:
    """What one retarget made: the animated rigs (the target itself, or its copies) and their actions."""

    bone_map: BoneMap
    targets: list[bpy.types.Object] = field(default_factory=list)
    actions: list[bpy.types.Action] = field(default_factory=list)
    detected_score: float | None = None  # the preset's score when it was auto-detected
    collection: bpy.types.Collection | None = None  # where per-person copies went


def _ignore(level: str, message: str) -> None:
    del level, message


def is_crowdmocap_armature(obj: bpy.types.Object | None) -> bool:
    return obj is not None and obj.type == "ARMATURE" and PERSON_ID_PROPERTY in obj


def choose_bone_map(
    target: bpy.types.Object, preset: str = "auto", report: Report = _ignore
) -> tuple[BoneMap, float | None]:
    """A preset by id, or ("auto") the preset whose bones the target has most of (UnknownRigError if none)."""
    presets, problems = all_presets()
    for problem in problems:
        report("WARNING", problem)
    if preset and preset != "auto":
        return find_preset(preset, presets), None
    found = detect([bone.name for bone in target.data.bones], presets, rig_name=f"armature '{target.name}'")
    return found.preset, found.score


def target_rig(skeleton: Skeleton, bone_map: BoneMap, report: Report = _ignore) -> TargetRig:
    """Resolve the map's names against the rig; bones the rig lacks are left unmapped (and reported)."""
    found, missing = resolve(bone_map, skeleton.names)
    if missing:
        report("INFO", f"bone map '{bone_map.name}': not in the rig, left unmapped: {', '.join(missing)}")
    joints = {JOINT_NAMES.index(joint): skeleton.index(bone) for joint, bone in found.items()}
    root = next((skeleton.index(name) for name in bone_map.root if name in skeleton.names), None)
    return TargetRig(skeleton=skeleton, joints=joints, root=root)  # RetargetError when the pelvis drives nothing


def _reset_pose(obj: bpy.types.Object) -> None:
    """Every pose channel to rest (unmapped bones keep their rest; mapped ones are keyed anyway)."""
    bones = obj.pose.bones
    count = len(bones)
    bones.foreach_set("location", np.zeros(count * 3, dtype=np.float32))
    bones.foreach_set("rotation_quaternion", np.tile(np.array([1, 0, 0, 0], dtype=np.float32), count))
    bones.foreach_set("rotation_euler", np.zeros(count * 3, dtype=np.float32))
    bones.foreach_set("rotation_axis_angle", np.tile(np.array([0, 0, 1, 0], dtype=np.float32), count))
    bones.foreach_set("scale", np.ones(count * 3, dtype=np.float32))


@contextmanager
def _target_kept_on_failure(obj: bpy.types.Object) -> Iterator[None]:
    """On an exception put the target's action assignment and pose channels back, then re-raise."""
    animation = obj.animation_data
    assigned = (animation.action, animation.action_slot) if animation is not None else None
    bones = obj.pose.bones
    saved = {}
    for prop, size in (("location", 3), ("rotation_quaternion", 4), ("rotation_euler", 3),
                       ("rotation_axis_angle", 4), ("scale", 3)):  # fmt: skip
        values = np.empty(len(bones) * size, dtype=np.float32)
        bones.foreach_get(prop, values)
        saved[prop] = values
    try:
        yield
    except BaseException:
        for prop, values in saved.items():
            bones.foreach_set(prop, values)
        if assigned is None:
            obj.animation_data_clear()
        else:
            obj.animation_data.action = assigned[0]
            if assigned[0] is not None and assigned[1] is not None:
                obj.animation_data.action_slot = assigned[1]
        raise


def _unassign_action(obj: bpy.types.Object) -> None:
    """Drop the copied action but keep the drivers (a Rigify rig's switches and constraints run on them)."""
    if obj.animation_data is not None:
        obj.animation_data.action = None


def _relink_drivers(datablock: bpy.types.ID, old: bpy.types.ID, new: bpy.types.ID) -> None:
    """Point driver variables that read ``old`` at ``new`` (``Object.copy`` does this for the object's own
    drivers; the copied armature data's drivers still read the template)."""
    animation = datablock.animation_data
    if animation is None:
        return
    for driver in animation.drivers:
        for variable in driver.driver.variables:
            for target in variable.targets:
                if target.id == old:
                    target.id = new


def duplicate_rig(
    template: bpy.types.Object, name: str, collection: bpy.types.Collection, created: CreatedData
) -> tuple[bpy.types.Object, list[bpy.types.Object]]:
    """A copy of the armature (own armature data) and of its child meshes (sharing their mesh data).

    ``Object.copy`` already points the copy's constraints and drivers at the copy itself.
    """
    rig = created.add(template.copy())
    rig.data = created.add(template.data.copy())
    rig.name = rig.data.name = name
    _unassign_action(rig)
    _relink_drivers(rig.data, template, rig)
    collection.objects.link(rig)
    meshes = []
    for child in template.children:
        if child.type != "MESH":
            continue
        mesh = created.add(child.copy())
        mesh.name = f"{name}_{child.name}"
        _unassign_action(mesh)
        mesh.parent = rig
        mesh.matrix_parent_inverse = child.matrix_parent_inverse.copy()
        for modifier in mesh.modifiers:
            if modifier.type == "ARMATURE" and modifier.object == template:
                modifier.object = rig
        collection.objects.link(mesh)
        meshes.append(mesh)
    return rig, meshes


def _motion_channels(rig_obj: bpy.types.Object, rig: TargetRig, motion: RetargetedMotion) -> list[Channel]:
    names = rig.skeleton.names
    out: list[Channel] = []
    for bone in sorted(set(motion.rotations) | set(motion.locations)):
        pose_bone = rig_obj.pose.bones[names[bone]]
        out += channel_maths.bone_channels(
            names[bone], motion.frames, rotations=motion.rotations.get(bone), mode=pose_bone.rotation_mode,
            locations=motion.locations.get(bone),
        )  # fmt: skip
    return out


def _setting_channels(
    rig_obj: bpy.types.Object, bone_map: BoneMap, frame: float, notes: dict[str, None]
) -> list[Channel]:
    """The preset's rig settings as constant keys; the ones this rig lacks become a note."""
    available = [
        f'{name}["{key}"]'
        for name in bone_map.properties
        if name in rig_obj.pose.bones
        for key in rig_obj.pose.bones[name].keys()  # noqa: SIM118 (ID properties, not a dict)
    ]
    settings, missing = channel_maths.setting_channels(bone_map.properties, frame, available)
    if missing:
        notes[f"rig settings of '{bone_map.name}' not on this rig, not keyed: {', '.join(missing)}"] = None
    return settings


def _visibility_channels(source: bpy.types.Object) -> list[Channel]:
    return [
        Channel(data_path=path, index=0, group="Visibility", frames=frames, values=values, interpolation="CONSTANT")
        for path, (frames, values) in visibility_keys(source).items()
    ]


def _constrained(obj: bpy.types.Object, rig: TargetRig) -> bool:
    """Whether constraints could move a driven bone away from its keys (the NumPy solve ignores them)."""
    if len(obj.constraints):
        return True
    bones = set(rig.joints.values())
    for bone in list(bones):
        bones.update(rig.skeleton.ancestors(bone))
    return any(len(obj.pose.bones[rig.skeleton.names[bone]].constraints) for bone in bones)


def _check_constraints(
    context: bpy.types.Context, made: Sequence[tuple[bpy.types.Object, RetargetedMotion]], rig: TargetRig,
    report: Report,
) -> None:  # fmt: skip
    """Evaluate a few frames and warn about driven bones that constraints turn away from the transfer."""
    scene = context.scene
    current = scene.frame_current
    worst: dict[str, float] = {}
    try:
        for obj, motion in made[:_CHECK_TARGETS]:
            for index in sorted({0, len(motion.frames) // 2, len(motion.frames) - 1}):
                scene.frame_set(int(motion.frames[index]))
                world = rotation_part(np.array(obj.matrix_world))
                for bone, wanted in motion.world_rotations.items():
                    name = rig.skeleton.names[bone]
                    posed = world @ rotation_part(np.array(obj.pose.bones[name].matrix))
                    worst[name] = max(worst.get(name, 0.0), float(np.degrees(rotation_angle(posed, wanted[index]))))
    finally:
        scene.frame_set(current)
    off = {name: angle for name, angle in worst.items() if angle > CONSTRAINT_TOLERANCE_DEG}
    if off:
        listed = ", ".join(f"{name} {angle:.0f}°" for name, angle in sorted(off.items(), key=lambda kv: -kv[1]))
        report("WARNING", f"constraints on the rig turn driven bones away from the capture: {listed}")


_PER_PERSON = RETARGET_OPTIONS["duplicate_per_person"].default
_BLENDER_SUFFIX = re.compile(r"\.\d{3,}$")  # what Blender appends to a name that is taken: ".001"


def _crowd_collection(
    context: bpy.types.Context, target: bpy.types.Object, created: CreatedData
) -> bpy.types.Collection:
    """``<rig>_crowd``: the one an earlier run made, else a new one, linked under the scene."""
    name = f"{target.name}_crowd"
    collection = bpy.data.collections.get(name) or created.add(bpy.data.collections.new(name))
    if collection.name not in context.scene.collection.children:
        context.scene.collection.children.link(collection)
    return collection


def _earlier_copies(people: Sequence[bpy.types.Object], target: bpy.types.Object) -> list[bpy.types.Object]:
    """Characters an earlier per-person retarget made from ``target`` for these people (to be replaced)."""
    names = {person.name for person in people}
    return [obj for obj in bpy.data.objects if obj.type == "ARMATURE" and obj is not target
            and obj.get(RETARGET_SOURCE) in names and obj.get(RETARGET_TEMPLATE) == target.name]  # fmt: skip


def _replace_earlier(earlier: Sequence[bpy.types.Object], target: bpy.types.Object, result: RetargetResult,
                     stale_action: bpy.types.Action | None) -> None:  # fmt: skip
    """After a successful re-run: remove what the earlier run made, give the new datablocks the clean names.

    Done only once the new retarget has fully succeeded, so a failing re-run leaves the earlier one intact.
    """
    doomed: list[bpy.types.ID] = []
    for rig in earlier:
        doomed += [rig, rig.data, *(child for child in rig.children if child.type == "MESH")]
        action = rig.animation_data.action if rig.animation_data is not None else None
        if action is not None and action not in result.actions:
            doomed.append(action)
    if stale_action is not None and stale_action not in result.actions and stale_action.users == 0:
        doomed.append(stale_action)
    wanted = {rig: f"{rig[RETARGET_SOURCE]}_{target.name}" for rig in result.targets if rig is not target}
    if doomed:
        bpy.data.batch_remove(doomed)
    for rig, name in wanted.items():
        rig.name = rig.data.name = name
        for child in rig.children:
            if child.type == "MESH":
                child.name = _BLENDER_SUFFIX.sub("", child.name)  # the earlier copy's name is free again
    for rig, action in zip(result.targets, result.actions, strict=True):
        action.name = f"{rig.name}_retarget"


def retarget(
    context: bpy.types.Context,
    sources: Sequence[bpy.types.Object],
    target: bpy.types.Object,
    *,
    bone_map: BoneMap | None = None,
    preset: str = "auto",
    per_person: bool = _PER_PERSON,
    options: RetargetOptions | None = None,
    report: Report = _ignore,
) -> RetargetResult:
    """Retarget every source onto ``target`` (or onto one copy of it per source with ``per_person``).

    Raises RetargetError (bad sources or map) or BoneMapError/UnknownRigError (no usable bone map) before
    changing anything; a later failure removes what was made and restores the target.
    """
    options = options or RetargetOptions()
    if target is None or target.type != "ARMATURE":
        raise RetargetError("the target must be an armature (make your rig the active object)")
    people = [obj for obj in sources if obj is not target and is_crowdmocap_armature(obj)]
    if not people:
        raise RetargetError("no CrowdMocap armatures to retarget: select the people (..._Person_...) and the rig")
    if not per_person and len(people) > 1:
        raise RetargetError(
            f"{len(people)} people selected for one rig: select one, or use 'Duplicate target per person'"
        )
    score = None
    if bone_map is None:
        bone_map, score = choose_bone_map(target, preset, report)
    leave_edit_modes(context)
    rig = target_rig(skeleton_of(target), bone_map, report)
    result = RetargetResult(bone_map=bone_map, detected_score=score)
    notes: dict[str, None] = {}  # reported once, however many people they apply to
    made: list[tuple[bpy.types.Object, RetargetedMotion]] = []
    earlier = _earlier_copies(people, target) if per_person else []
    stale_action = None if per_person or target.animation_data is None else target.animation_data.action
    with transaction(context) as created, _target_kept_on_failure(target):
        if per_person:
            result.collection = _crowd_collection(context, target, created)
        for person in people:
            motion_in = source_motion(person)
            if motion_in is None:
                report("WARNING", f"'{person.name}' has no animation: skipped")
                continue
            motion = retarget_motion(motion_in, rig, options)
            notes.update(dict.fromkeys(motion.notes))
            if per_person:
                rig_obj, meshes = duplicate_rig(target, f"{person.name}_{target.name}", result.collection, created)
            else:
                rig_obj, meshes = target, []
            _reset_pose(rig_obj)
            channels = _motion_channels(rig_obj, rig, motion)
            channels += _setting_channels(rig_obj, bone_map, float(motion.frames[0]), notes)
            visibility = _visibility_channels(person) if per_person else []
            targets = [(rig_obj, channels + visibility)] + [(mesh, visibility) for mesh in meshes if visibility]
            result.actions.append(animate(f"{rig_obj.name}_retarget", targets, created))
            rig_obj[RETARGET_SOURCE] = person.name  # what export's scope goes by
            if per_person:
                rig_obj[RETARGET_TEMPLATE] = target.name  # a re-run replaces this copy
            result.targets.append(rig_obj)
            made.append((rig_obj, motion))
    _replace_earlier(earlier, target, result, stale_action)
    for note in notes:
        report("INFO", note)
    if made and _constrained(target, rig):
        _check_constraints(context, made, rig, report)
    return result
