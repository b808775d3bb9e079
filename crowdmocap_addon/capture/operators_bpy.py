"""The panel's buttons: Check server, Capture (modal from the UI, blocking from a script), Cancel, Open Preview."""

from __future__ import annotations

from pathlib import Path

import bpy

from ..client.capture_job import CaptureSnapshot
from ..preferences import DEFAULT_OPTIONS
from . import flow_bpy, server_check_bpy

TIMER_S = 0.25


class CROWDMOCAP_OT_check_server(bpy.types.Operator):  # noqa: N801 (Blender's naming)
    """Ask the CrowdMocap server whether it is up and what it can run"""

    bl_idname = "crowdmocap.check_server"
    bl_label = "Check Server"

    def execute(self, context: bpy.types.Context) -> set[str]:
        status = context.window_manager.crowdmocap_status
        reachable, status.server = server_check_bpy.ask(flow_bpy.client(context, timeout=3.0))
        status.server_checked = True
        self.report({"INFO"} if reachable else {"WARNING"}, status.server)
        return {"FINISHED"} if reachable else {"CANCELLED"}


class CROWDMOCAP_OT_capture(bpy.types.Operator):  # noqa: N801
    """Send the footage to the server, follow its progress, and import every person when it is done (Esc cancels)"""

    bl_idname = "crowdmocap.capture"
    bl_label = "Capture"
    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (the import is one undo step)

    _timer = None

    def _start(self, context: bpy.types.Context) -> bool:
        try:
            flow_bpy.start_capture(context)
        except flow_bpy.CaptureSetupError as exc:
            self.report({"ERROR"}, str(exc))
            return False
        return True

    def execute(self, context: bpy.types.Context) -> set[str]:
        """From a script (``bpy.ops.crowdmocap.capture()``): capture and import before returning."""
        if not self._start(context):
            return {"CANCELLED"}
        return self._finish(context, flow_bpy.wait(context, TIMER_S))

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        if not self._start(context):
            return {"CANCELLED"}
        self._timer = context.window_manager.event_timer_add(TIMER_S, window=context.window)
        context.window_manager.modal_handler_add(self)
        return {"RUNNING_MODAL"}

    def _finish(self, context: bpy.types.Context, snapshot: CaptureSnapshot | None) -> set[str]:
        """Report the outcome: the import's notes as warnings, a failure as an error."""
        status = context.window_manager.crowdmocap_status
        if snapshot is not None and snapshot.phase == "done":
            for line in status.warnings.splitlines():
                self.report({"WARNING"}, line)
            self.report({"INFO"}, status.message)
            return {"FINISHED"}
        failed = snapshot is not None and snapshot.phase == "failed"
        self.report({"ERROR"} if failed else {"WARNING"}, status.message or "Capture stopped")
        return {"CANCELLED"}

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
        return self._finish(context, snapshot)


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


class CROWDMOCAP_OT_open_preview(bpy.types.Operator):  # noqa: N801
    """Open the last capture's preview video (every person's skeleton over the footage) in your video player"""

    bl_idname = "crowdmocap.open_preview"
    bl_label = "Open Preview"

    @classmethod
    def poll(cls, context: bpy.types.Context) -> bool:
        return bool(context.window_manager.crowdmocap_status.preview)

    def execute(self, context: bpy.types.Context) -> set[str]:
        path = Path(context.window_manager.crowdmocap_status.preview)
        if not path.is_file():
            self.report({"ERROR"}, f"The preview video is gone: {path}")
            return {"CANCELLED"}
        return bpy.ops.wm.path_open(filepath=str(path))


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
    CROWDMOCAP_OT_open_preview,
)
