"""The panel's buttons: Check server, Capture (modal, follows the job on a timer) and Cancel."""

from __future__ import annotations

import bpy

from ..client.http import ServerError
from ..preferences import DEFAULT_OPTIONS
from . import flow_bpy

TIMER_S = 0.25


class CROWDMOCAP_OT_check_server(bpy.types.Operator):  # noqa: N801 (Blender's naming)
    """Ask the CrowdMocap server whether it is up and what it can run"""

    bl_idname = "crowdmocap.check_server"
    bl_label = "Check Server"

    def execute(self, context: bpy.types.Context) -> set[str]:
        status = context.window_manager.crowdmocap_status
        try:
            health = flow_bpy.client(context, timeout=3.0).health()
        except ServerError as exc:
            status.server = str(exc)
            self.report({"WARNING"}, str(exc))
            return {"CANCELLED"}
        usable = [name for name, item in health["estimators"].items() if item["usable"]]
        status.server = f"Server {health['version']} on {health['device']}: estimators {', '.join(usable) or 'none'}"
        self.report({"INFO"}, status.server)
        return {"FINISHED"}


class CROWDMOCAP_OT_capture(bpy.types.Operator):  # noqa: N801
    """Send the footage to the server, follow its progress, and import every person when it is done (Esc cancels)"""

    bl_idname = "crowdmocap.capture"
    bl_label = "Capture"

    _timer = None

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        try:
            flow_bpy.start_capture(context)
        except flow_bpy.CaptureSetupError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self._timer = context.window_manager.event_timer_add(TIMER_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def modal(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if event.type == "ESC":
            flow_bpy.cancel_active()
            context.window_manager.crowdmocap_status.label = "Cancelling..."
        if event.type != "TIMER":
            return {"PASS_THROUGH"}
        snapshot = flow_bpy.tick(context)
        if snapshot is not None and not snapshot.finished:
            return {"PASS_THROUGH"}
        context.window_manager.event_timer_remove(self._timer)
        message = context.window_manager.crowdmocap_status.message
        if snapshot is not None and snapshot.phase == "done":
            self.report({"INFO"}, message)
            return {"FINISHED"}
        self.report({"WARNING"}, message or "Capture stopped")
        return {"CANCELLED"}


class CROWDMOCAP_OT_cancel_capture(bpy.types.Operator):  # noqa: N801
    """Cancel the running capture (the server stops the job)"""

    bl_idname = "crowdmocap.cancel_capture"
    bl_label = "Cancel Capture"

    def execute(self, context: bpy.types.Context) -> set[str]:
        if not flow_bpy.cancel_active():
            self.report({"INFO"}, "No capture is running")
            return {"CANCELLED"}
        context.window_manager.crowdmocap_status.label = "Cancelling..."
        return {"FINISHED"}


class CROWDMOCAP_OT_use_default_options(bpy.types.Operator):  # noqa: N801
    """Set this scene's capture options to your defaults from the add-on preferences"""

    bl_idname = "crowdmocap.use_default_options"
    bl_label = "Use My Defaults"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a plain set)

    def execute(self, context: bpy.types.Context) -> set[str]:
        prefs = flow_bpy.preferences(context)
        if prefs is None:
            self.report({"WARNING"}, "The CrowdMocap preferences are not available")
            return {"CANCELLED"}
        settings = context.scene.crowdmocap
        for name in DEFAULT_OPTIONS:
            setattr(settings, name, getattr(prefs, f"default_{name}"))
        return {"FINISHED"}


CLASSES = (
    CROWDMOCAP_OT_use_default_options,
    CROWDMOCAP_OT_check_server,
    CROWDMOCAP_OT_capture,
    CROWDMOCAP_OT_cancel_capture,
)
