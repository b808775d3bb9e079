"""3D Viewport › Sidebar › CrowdMocap: server, footage, options, Capture with progress."""

from __future__ import annotations

import bpy

from .operators_bpy import (
    CROWDMOCAP_OT_cancel_capture,
    CROWDMOCAP_OT_capture,
    CROWDMOCAP_OT_check_server,
    CROWDMOCAP_OT_use_default_options,
)


class VIEW3D_PT_crowdmocap(bpy.types.Panel):  # noqa: N801 (Blender's naming)
    bl_label = "CrowdMocap"
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "CrowdMocap"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        settings, status = context.scene.crowdmocap, context.window_manager.crowdmocap_status
        row = layout.row(align=True)
        row.label(text=status.server or "Server not checked", icon="URL")
        row.operator(CROWDMOCAP_OT_check_server.bl_idname, text="", icon="FILE_REFRESH")

        layout.prop(settings, "footage")
        row = layout.row(align=True)
        row.prop(settings, "frame_start")
        row.prop(settings, "frame_end")
        row.prop(settings, "stride")

        row = layout.row()
        row.label(text="Options")
        row.operator(CROWDMOCAP_OT_use_default_options.bl_idname, text="", icon="LOOP_BACK")
        column = layout.column(align=True)
        column.prop(settings, "pose_backend")
        column.prop(settings, "estimator")
        column.prop(settings, "max_people")
        column.prop(settings, "min_track_length")
        column.prop(settings, "relink")
        column.prop(settings, "smoothing")
        column.prop(settings, "foot_lock")
        column.prop(settings, "ground_feet")
        column.prop(settings, "fix_facing")
        column.prop(settings, "temporal_fit")
        if settings.temporal_fit:
            column.prop(settings, "fit_smoothness")
        column.prop(settings, "focal_mode")
        if settings.focal_mode == "PIXELS":
            column.prop(settings, "focal_px")
        elif settings.focal_mode == "MILLIMETRES":
            column.prop(settings, "focal_mm")
            column.prop(settings, "sensor_width_mm")
        elif settings.focal_mode == "FOV":
            column.prop(settings, "fov_deg")
        column.prop(settings, "ground_align")

        if status.running:
            layout.progress(factor=status.progress, type="BAR", text=status.label)
            layout.operator(CROWDMOCAP_OT_cancel_capture.bl_idname, icon="CANCEL")
        else:
            layout.operator(CROWDMOCAP_OT_capture.bl_idname, icon="REC")
        if status.message:
            layout.label(text=status.message, icon="INFO")


CLASSES = (VIEW3D_PT_crowdmocap,)
