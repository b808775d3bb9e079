"""Write people to files with Blender's own exporters, one file per person or one for the crowd.

People imported by CrowdMocap are hidden outside their frames (keyed visibility); hidden objects cannot
be selected, and exporters take the selection, so the visibility curves are muted while exporting and
restored afterwards, with the selection, the active object and the frame.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from pathlib import Path

import bpy

from ..core.options import EXPORT_OPTIONS
from ..scene.record import PERSON_ID, RETARGET_SOURCE
from .bvh_bpy import bvh_armature
from .origin_bpy import started_at_origin
from .presets import ExportPreset, output_name
from .scope import CAPTURED, OTHER, RETARGETED, in_scope

Progress = Callable[[int, int, Path], None]
_START_AT_ORIGIN = EXPORT_OPTIONS["start_at_origin"].default


def armature_kind(obj: bpy.types.Object) -> str:
    """captured (a person CrowdMocap imported), retargeted (a character a retarget animated), or other."""
    if RETARGET_SOURCE in obj:
        return RETARGETED
    return CAPTURED if PERSON_ID in obj else OTHER


def armatures_in_scope(objects: Sequence[bpy.types.Object], scope: str) -> list[bpy.types.Object]:
    """The armatures among ``objects`` that the export ``scope`` takes, sorted by name (ExportScopeError if none)."""
    armatures = sorted((o for o in objects if o.type == "ARMATURE"), key=lambda o: o.name)
    return [armatures[i] for i in in_scope([armature_kind(o) for o in armatures], scope)]


def people_in(collection: bpy.types.Collection) -> list[bpy.types.Object]:
    """The armatures of a capture (or any armatures in the collection), sorted by name."""
    return sorted((o for o in collection.all_objects if o.type == "ARMATURE"), key=lambda o: o.name)


def _family(armature: bpy.types.Object) -> list[bpy.types.Object]:
    return [armature, *(child for child in armature.children_recursive if child.type == "MESH")]


def object_fcurves(obj: bpy.types.Object) -> Iterator[bpy.types.FCurve]:
    """The F-curves animating ``obj``: its slot's channel bag in a layered action (Blender 4.4+ and 5.x)."""
    data = obj.animation_data
    if data is None or data.action is None or data.action_slot is None:
        return
    for layer in data.action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(data.action_slot)
            if bag is not None:
                yield from bag.fcurves


def _visibility_curves(objects: Sequence[bpy.types.Object]) -> Iterator[bpy.types.FCurve]:
    for obj in objects:
        for curve in object_fcurves(obj):
            if curve.data_path in ("hide_viewport", "hide_render"):
                yield curve


@contextmanager
def _exporting(context: bpy.types.Context, objects: Sequence[bpy.types.Object]) -> Iterator[None]:
    """Select exactly ``objects``, shown, with the first active; every other object of the scene hidden.

    Exporters bake animation by evaluating the whole scene at every frame, and Blender evaluates every
    action whether its object is shown or not: hiding the rest of the crowd and detaching their actions
    keeps one person's file from costing more in a large crowd. Visibility, actions (with their slots),
    selection, the active object and the frame are restored afterwards.
    """
    view_layer, scene = context.view_layer, context.scene
    exported = set(objects)
    others = [o for o in scene.objects if o not in exported and not o.hide_viewport]
    selected = [o for o in scene.objects if o.select_get()]
    active, frame = view_layer.objects.active, scene.frame_current
    touched = list(objects) + others
    muted = [(curve, curve.mute) for curve in _visibility_curves(touched)]
    hidden = [(o, o.hide_viewport, o.hide_render) for o in touched]
    detached = [(o.animation_data, o.animation_data.action, o.animation_data.action_slot) for o in others
                if o.animation_data is not None and o.animation_data.action is not None]  # fmt: skip
    try:
        for data, _, _ in detached:
            data.action = None
        for curve, _ in muted:
            curve.mute = True
        for obj in others:
            obj.hide_viewport = True
        for obj in objects:
            obj.hide_viewport = obj.hide_render = False
        for obj in selected:
            obj.select_set(False)
        for obj in objects:
            obj.select_set(True)
        view_layer.objects.active = objects[0]
        yield
    finally:
        for data, action, slot in detached:
            data.action = action
            data.action_slot = slot
        for curve, was in muted:
            curve.mute = was
        for obj, viewport, render in hidden:
            obj.hide_viewport, obj.hide_render = viewport, render
        for obj in objects:
            obj.select_set(False)
        for obj in selected:
            obj.select_set(True)
        view_layer.objects.active = active
        scene.frame_set(frame)


UNREAL_DROPPED_NODE = "Armature"  # the one armature node name Unreal's FBX importer leaves out of the skeleton


def root_node_name(preset: ExportPreset, armature: bpy.types.Object) -> str | None:
    """What the armature object is called in the file: the preset's root name (Unreal: 'root'), unless the
    rig has a top-level bone of that name already, which then is the root: the node becomes 'Armature',
    which Unreal skips, so the skeleton reads root -> pelvis and not root -> root -> pelvis."""
    if preset.root_name is None:
        return None
    if any(bone.parent is None and bone.name == preset.root_name for bone in armature.data.bones):
        return UNREAL_DROPPED_NODE
    return preset.root_name


@contextmanager
def _renamed(obj: bpy.types.Object, name: str | None) -> Iterator[None]:
    """``obj`` called ``name`` while exporting; an object already called that steps aside meanwhile."""
    if name is None or obj.name == name:
        yield
        return
    original = obj.name
    holder = bpy.data.objects.get(name)
    if holder is not None:
        holder.name = f"{name}.crowdmocap-export"
    obj.name = name
    try:
        yield
    finally:
        obj.name = original
        if holder is not None:
            holder.name = name


def motion_range(armature: bpy.types.Object, scene: bpy.types.Scene) -> tuple[int, int]:
    """First and last keyed frame of the person's motion (the pelvis), else the scene's range.

    The action's own range is wider: visibility is keyed one frame before and after the person.
    """
    keys = [curve.range() for curve in object_fcurves(armature) if curve.data_path.startswith("pose.bones")]
    if not keys:
        return scene.frame_start, scene.frame_end
    return round(min(k[0] for k in keys)), round(max(k[1] for k in keys))


@contextmanager
def _scene_range(scene: bpy.types.Scene, frames: tuple[int, int]) -> Iterator[None]:
    """Exporters bake the scene's frame range: narrow it to the people being exported."""
    original = scene.frame_start, scene.frame_end
    scene.frame_start, scene.frame_end = frames
    try:
        yield
    finally:
        scene.frame_start, scene.frame_end = original


def _write(context: bpy.types.Context, preset: ExportPreset, path: Path, armature: bpy.types.Object,
           include_mesh: bool) -> None:  # fmt: skip
    settings = dict(preset.settings)
    if preset.format == "fbx":
        settings["object_types"] = {"ARMATURE", "MESH"} if include_mesh else {"ARMATURE"}
        bpy.ops.export_scene.fbx(filepath=str(path), **settings)
    elif preset.format == "glb":
        bpy.ops.export_scene.gltf(filepath=str(path), **settings)
    else:
        start, end = context.scene.frame_start, context.scene.frame_end
        with bvh_armature(context, armature):
            bpy.ops.export_anim.bvh(filepath=str(path), frame_start=start, frame_end=end, **settings)


def export_people(
    context: bpy.types.Context,
    armatures: Sequence[bpy.types.Object],
    preset: ExportPreset,
    folder: str | Path,
    *,
    capture_name: str,
    per_person: bool = True,
    include_mesh: bool = True,
    start_at_origin: bool = _START_AT_ORIGIN,
    progress: Progress | None = None,
) -> list[Path]:
    """Export ``armatures`` (with their body meshes unless ``include_mesh`` is off); returns the files written.

    BVH holds one skeleton per file, so it is always per person. ``start_at_origin`` moves each person's
    file to start at the origin facing forward; a crowd file keeps everyone's places.
    """
    if not armatures:
        raise ValueError("no armatures to export: select CrowdMocap people or pick a capture collection")
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    per_person = per_person or preset.format == "bvh"
    groups = [[a] for a in armatures] if per_person else [list(armatures)]
    written: list[Path] = []
    for index, group in enumerate(groups):
        objects = [o for a in group for o in (_family(a) if include_mesh and preset.format != "bvh" else [a])]
        path = out / output_name(capture_name, group[0].name if per_person else None, preset)
        root = root_node_name(preset, group[0]) if per_person else None  # one name can only go to one armature
        ranges = [motion_range(a, context.scene) for a in group]
        frames = (min(r[0] for r in ranges), max(r[1] for r in ranges))
        with ExitStack() as stack:
            stack.enter_context(_exporting(context, objects))
            stack.enter_context(_renamed(group[0], root))
            stack.enter_context(_scene_range(context.scene, frames))
            if per_person and start_at_origin:
                stack.enter_context(started_at_origin(context, group[0], frames[0]))
            _write(context, preset, path, group[0], include_mesh)
        written.append(path)
        if progress is not None:
            progress(index + 1, len(groups), path)
    return written
