"""3D Viewport › Sidebar › CrowdMocap: server, footage, options, Capture with progress, Import and Export."""

from __future__ import annotations

import bpy

from ..export.operator_bpy import CROWDMOCAP_OT_export_crowd
from ..scene.operator_bpy import IMPORT_SCENE_OT_crowdmocap_result
from ..sidebar_bpy import SidebarPanel
from . import flow_bpy, server_check_bpy
from .operators_bpy import (
    CROWDMOCAP_OT_cancel_capture,
    CROWDMOCAP_OT_capture,
    CROWDMOCAP_OT_check_server,
    CROWDMOCAP_OT_open_preview,
    CROWDMOCAP_OT_use_default_options,
)


class VIEW3D_PT_crowdmocap(SidebarPanel, bpy.types.Panel):  # noqa: N801 (Blender's naming)
    bl_label = "CrowdMocap"

    def draw(self, context: bpy.types.Context) -> None:
        status = context.window_manager.crowdmocap_status
        _draw_server(self.layout, context, status)
        row = self.layout.row(align=True)
        row.operator(IMPORT_SCENE_OT_crowdmocap_result.bl_idname, text="Import Result", icon="IMPORT")
        row.operator(CROWDMOCAP_OT_export_crowd.bl_idname, text="Export", icon="EXPORT")
        options = self.layout.column()
        options.enabled = not status.running  # a running capture was sent these: they stay as they were
        _draw_options(options, context.scene.crowdmocap)
        _draw_status(self.layout, status)


def _draw_server(layout: bpy.types.UILayout, context: bpy.types.Context, status) -> None:
    if not status.server_checked:  # the first time the panel opens: ask in the background
        server_check_bpy.request(flow_bpy.client(context, timeout=3.0))
    row = layout.row(align=True)
    row.label(text=status.server or "Checking the server...", icon="URL")
    row.operator(CROWDMOCAP_OT_check_server.bl_idname, text="", icon="FILE_REFRESH")


def _draw_status(layout: bpy.types.UILayout, status) -> None:
    if status.running:
        layout.progress(factor=status.progress, type="BAR", text=status.label)
        layout.operator(CROWDMOCAP_OT_cancel_capture.bl_idname, icon="CANCEL")
    else:
        layout.operator(CROWDMOCAP_OT_capture.bl_idname, icon="REC")
    if status.message:
        layout.label(text=status.message, icon="INFO")
    for line in status.warnings.splitlines():
        layout.label(text=line, icon="ERROR")
    if status.preview:
        layout.operator(CROWDMOCAP_OT_open_preview.bl_idname, icon="FILE_MOVIE")


def _draw_options(layout: bpy.types.UILayout, settings) -> None:
    layout.prop(settings, "footage")
    row = layout.row(align=True)
    row.prop(settings, "frame_start")
    row.prop(settings, "frame_end")
    row.prop(settings, "stride")
    row = layout.row()
    row.label(text="Options")
    row.operator(CROWDMOCAP_OT_use_default_options.bl_idname, text="", icon="LOOP_BACK")
    column = layout.column(align=True)
    for name in ("pose_backend", "estimator", "max_people", "min_track_length", "relink", "smoothing", "foot_lock",
                 "ground_feet", "fix_facing", "temporal_fit"):  # fmt: skip
        column.prop(settings, name)
    if settings.temporal_fit:
        column.prop(settings, "fit_smoothness")
        column.prop(settings, "top_speed")
    column.prop(settings, "still_camera")
    column.prop(settings, "focal_mode")
    focal = {"PIXELS": ("focal_px",), "MILLIMETRES": ("focal_mm", "sensor_width_mm"), "FOV": ("fov_deg",)}
    for name in focal.get(settings.focal_mode, ()):
        column.prop(settings, name)
    column.prop(settings, "ground_align")
    column.prop(settings, "preview")


CLASSES = (VIEW3D_PT_crowdmocap,)
