"""Operators: Retarget to rig, load a bone map into the panel, save the panel's map as a user preset."""

from __future__ import annotations

import bpy

from ..core.options import RETARGET_OPTIONS
from ..option_props_bpy import option_property
from .presets import BoneMap, BoneMapError, preset_id_for, resolve, save_user_preset
from .presets_bpy import user_preset_folder
from .retarget_bpy import choose_bone_map, is_crowdmocap_armature, retarget
from .settings_bpy import PEOPLE_ITEMS, ROOT_MOTION_ITEMS
from .transfer import RetargetError, RetargetOptions


def active_rig(context: bpy.types.Context) -> bpy.types.Object | None:
    obj = context.active_object
    return obj if obj is not None and obj.type == "ARMATURE" else None


def selected_people(context: bpy.types.Context, which: str = "SELECTED") -> list[bpy.types.Object]:
    """The selected CrowdMocap armatures, or ("SCENE") all of them: people hidden at the current frame (not
    on screen yet, or gone) cannot be selected in the viewport."""
    target = active_rig(context)
    pool = context.scene.objects if which == "SCENE" else context.selected_objects
    return sorted((obj for obj in pool if obj is not target and is_crowdmocap_armature(obj)), key=lambda o: o.name)


class CROWDMOCAP_OT_retarget(bpy.types.Operator):  # noqa: N801 (Blender's naming)
    """Retarget the selected CrowdMocap people onto the active armature (or onto one copy of it per person)"""

    bl_idname = "crowdmocap.retarget"
    bl_label = "Retarget to Rig"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a plain set)

    preset: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Preset", description="Bone-map preset id, 'auto' to detect, empty for the panel's map (or auto)"
    )
    people: bpy.props.EnumProperty(name="People", items=PEOPLE_ITEMS, default="SELECTED")  # type: ignore[valid-type]
    duplicate_per_person: option_property(RETARGET_OPTIONS["duplicate_per_person"])  # type: ignore[valid-type]
    root_motion: bpy.props.EnumProperty(name="Root motion", items=ROOT_MOTION_ITEMS, default="HIPS")  # type: ignore[valid-type]
    foot_pin: option_property(RETARGET_OPTIONS["foot_pin"])  # type: ignore[valid-type]
    blend_frames: option_property(RETARGET_OPTIONS["blend_frames"])  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_rig(context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = context.scene.crowdmocap_retarget
        report = lambda level, message: self.report({level}, message)  # noqa: E731
        try:
            bone_map = settings.to_bone_map() if not self.preset and settings.has_map() else None
            options = RetargetOptions(root_motion=self.root_motion, foot_pin=self.foot_pin,
                                      blend_frames=self.blend_frames)  # fmt: skip
            result = retarget(
                context, selected_people(context, self.people), active_rig(context), bone_map=bone_map,
                preset=self.preset or "auto", per_person=self.duplicate_per_person, options=options, report=report,
            )  # fmt: skip
        except (RetargetError, BoneMapError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        how = f" (detected, {result.detected_score:.0%} of its bones)" if result.detected_score is not None else ""
        self.report({"INFO"}, f"CrowdMocap: {len(result.targets)} retargeted with '{result.bone_map.name}'{how}")
        return {"FINISHED"}


class CROWDMOCAP_OT_retarget_load_map(bpy.types.Operator):  # noqa: N801
    """Fill the bone map from a preset, or detect the preset from the active rig's bone names"""

    bl_idname = "crowdmocap.retarget_load_map"
    bl_label = "Load Bone Map"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012

    preset: bpy.props.StringProperty(name="Preset", default="auto")  # type: ignore[valid-type]

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return active_rig(context) is not None

    def execute(self, context: bpy.types.Context) -> set[str]:
        target = active_rig(context)
        try:
            bone_map, score = choose_bone_map(target, self.preset, lambda lvl, msg: self.report({lvl}, msg))
        except BoneMapError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        names = [bone.name for bone in target.data.bones]
        found, missing = resolve(bone_map, names)
        root = next((name for name in bone_map.root if name in names), "")
        resolved = BoneMap(id=bone_map.id, name=bone_map.name, bones=found, root=bone_map.root,
                           properties=bone_map.properties)  # fmt: skip
        context.scene.crowdmocap_retarget.load(resolved, root)
        detail = f", detected ({score:.0%})" if score is not None else ""
        gaps = f"; not in the rig: {', '.join(missing)}" if missing else ""
        self.report({"INFO"}, f"Bone map '{bone_map.name}'{detail}: {len(found)} joints mapped{gaps}")
        return {"FINISHED"}


class CROWDMOCAP_OT_retarget_save_preset(bpy.types.Operator):  # noqa: N801
    """Save the panel's bone map as a preset in your user folder (it then appears with the shipped ones)"""

    bl_idname = "crowdmocap.retarget_save_preset"
    bl_label = "Save Bone Map Preset"

    name: bpy.props.StringProperty(name="Name", description="Preset name (empty: the panel's Name field)")  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        settings = context.scene.crowdmocap_retarget
        name = self.name or settings.preset_name
        try:
            if not settings.has_map():
                raise BoneMapError("the bone map is empty: load a preset or type bone names first")
            panel = settings.to_bone_map()
            bone_map = BoneMap(id=preset_id_for(name), name=name.strip(), bones=panel.bones, root=panel.root,
                               properties=panel.properties, description="Saved from the CrowdMocap panel")  # fmt: skip
            folder = user_preset_folder(create=True)
            if folder is None:
                raise BoneMapError("Blender offers no user folder to save presets in")
            path = save_user_preset(folder, bone_map)
        except (BoneMapError, OSError) as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        settings.preset = bone_map.id
        self.report({"INFO"}, f"Saved bone map '{bone_map.name}' to {path}")
        return {"FINISHED"}


CLASSES = (CROWDMOCAP_OT_retarget, CROWDMOCAP_OT_retarget_load_map, CROWDMOCAP_OT_retarget_save_preset)
