"""3D Viewport › Sidebar › CrowdMocap › Retarget: bone map (editable list), options, Retarget to Rig."""

from __future__ import annotations

import bpy

from ..sidebar_bpy import SidebarSubPanel
from .operators_bpy import (
    CROWDMOCAP_OT_retarget,
    CROWDMOCAP_OT_retarget_load_map,
    CROWDMOCAP_OT_retarget_save_preset,
    active_rig,
    selected_people,
)


class CROWDMOCAP_UL_bone_map(bpy.types.UIList):  # noqa: N801 (Blender's naming)
    """One row per SMPL joint: the joint, then the rig bone it drives (searchable in the active rig)."""

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0) -> None:  # noqa: PLR0917
        del data, icon, active_data, active_propname, index
        row = layout.row(align=True)
        split = row.split(factor=0.4)
        split.label(text=item.joint)
        target = active_rig(context)
        if target is not None:
            split.prop_search(item, "bone", target.data, "bones", text="")
        else:
            split.prop(item, "bone", text="")


class VIEW3D_PT_crowdmocap_retarget(SidebarSubPanel, bpy.types.Panel):  # noqa: N801
    bl_label = "Retarget"
    bl_options = {"DEFAULT_CLOSED"}  # noqa: RUF012 (Blender reads a plain set)

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        settings = context.scene.crowdmocap_retarget
        target, sources = active_rig(context), selected_people(context, settings.people)
        column = layout.column(align=True)
        column.label(text=f"Rig: {target.name}" if target else "Rig: make an armature active", icon="ARMATURE_DATA")
        row = column.row(align=True)
        row.label(text=f"People: {len(sources)}", icon="COMMUNITY")
        row.prop(settings, "people", text="")

        row = layout.row(align=True)
        row.prop(settings, "preset", text="")
        row.operator(CROWDMOCAP_OT_retarget_load_map.bl_idname, text="Load", icon="IMPORT").preset = settings.preset
        if settings.map_name:
            layout.label(text=f"Map: {settings.map_name}")
        layout.template_list("CROWDMOCAP_UL_bone_map", "", settings, "bone_map", settings, "bone_map_index", rows=6)
        if target is not None:
            layout.prop_search(settings, "root_bone", target.data, "bones")
        else:
            layout.prop(settings, "root_bone")
        row = layout.row(align=True)
        row.prop(settings, "preset_name", text="")
        row.operator(CROWDMOCAP_OT_retarget_save_preset.bl_idname, text="Save Preset", icon="FILE_TICK")

        column = layout.column(align=True)
        column.prop(settings, "duplicate_per_person")
        column.prop(settings, "root_motion")
        row = column.row(align=True)
        row.prop(settings, "foot_pin")
        sub = row.row(align=True)
        sub.enabled = settings.foot_pin
        sub.prop(settings, "blend_frames")
        op = layout.operator(CROWDMOCAP_OT_retarget.bl_idname, icon="ARMATURE_DATA")
        op.preset = "" if settings.has_map() else "auto"
        op.people = settings.people
        op.duplicate_per_person = settings.duplicate_per_person
        op.root_motion = settings.root_motion
        op.foot_pin = settings.foot_pin
        op.blend_frames = settings.blend_frames


CLASSES = (CROWDMOCAP_UL_bone_map, VIEW3D_PT_crowdmocap_retarget)
