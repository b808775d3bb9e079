"""The capture flow on Blender's side: start a background CaptureJob, reflect it in the panel, import when done.

Only the main thread runs this module; the job's own thread never touches bpy. ``tick`` is what the
modal operator runs on each timer event (tests drive it directly, as headless Blender has no event loop).
"""

from __future__ import annotations

import time
from pathlib import Path

import bpy

from ..client.capture_job import CaptureJob, CaptureSnapshot
from ..client.http import ServerClient
from ..client.job_options import job_options
from ..core.body.smpl_file import SmplModelError
from ..core.result.schema import ResultFormatError
from ..scene.build_bpy import import_result

ADDON_PACKAGE = __package__.rpartition(".")[0]  # "crowdmocap_addon", or "bl_ext.<repo>.crowdmocap"
DEFAULT_URL = "http://127.0.0.1:8765"
_active: list[CaptureJob] = []  # at most one capture at a time


class CaptureSetupError(ValueError):
    """The capture cannot start (no footage, a capture already running); the message says what to do."""


def preferences(context: bpy.types.Context):
    addon = context.preferences.addons.get(ADDON_PACKAGE)
    return addon.preferences if addon is not None else None


def client(context: bpy.types.Context, timeout: float = 10.0) -> ServerClient:
    prefs = preferences(context)
    url = prefs.server_url if prefs is not None else DEFAULT_URL
    return ServerClient(url, prefs.token if prefs is not None else "", timeout=timeout)


def footage_path(context: bpy.types.Context) -> Path:
    """The panel's footage file, else the active movie clip's file."""
    settings = context.scene.crowdmocap
    chosen = settings.footage
    if not chosen:
        clip = getattr(context.space_data, "clip", None) or context.scene.active_clip
        chosen = clip.filepath if clip is not None else ""
    if not chosen:
        raise CaptureSetupError("Pick the footage to capture (or make a movie clip the scene's active clip)")
    path = Path(bpy.path.abspath(chosen))
    if not path.is_file():
        raise CaptureSetupError(f"The footage file does not exist: {path}")
    return path


def captures_folder() -> Path:
    """Where downloaded results go: the extension's user folder (never inside the add-on itself)."""
    try:
        return Path(bpy.utils.extension_path_user(ADDON_PACKAGE, path="captures", create=True))
    except (ValueError, AttributeError):  # loaded as a plain add-on, not an extension
        return Path(bpy.utils.user_resource("DATAFILES", path="crowdmocap/captures", create=True))


def active_job() -> CaptureJob | None:
    return _active[0] if _active else None


def start_capture(context: bpy.types.Context) -> CaptureJob:
    if active_job() is not None:
        raise CaptureSetupError("A capture is already running; cancel it first")
    settings = context.scene.crowdmocap
    footage = footage_path(context)
    try:
        options = _options(settings)
    except ValueError as exc:  # an end frame before the start
        raise CaptureSetupError(f"Check the frame range: {exc}") from exc
    destination = captures_folder() / f"{footage.stem}_{time.strftime('%Y%m%d-%H%M%S')}.npz"
    job = CaptureJob(client(context), footage, options, destination).start()
    _active.append(job)
    status = context.window_manager.crowdmocap_status
    status.running, status.progress, status.label, status.message = True, 0.0, "Uploading footage", ""
    status.warnings = status.preview = ""
    return job


def _options(settings) -> dict:
    return job_options(
        pose_backend=settings.pose_backend, estimator=settings.estimator, frame_start=settings.frame_start,
        frame_end=settings.frame_end, stride=settings.stride, max_people=settings.max_people,
        min_track_length=settings.min_track_length, relink=settings.relink, smoothing=settings.smoothing,
        foot_lock=settings.foot_lock, ground_feet=settings.ground_feet, fix_facing=settings.fix_facing,
        temporal_fit=settings.temporal_fit, fit_smoothness=settings.fit_smoothness, top_speed=settings.top_speed,
        still_camera=settings.still_camera, focal_mode=settings.focal_mode,
        focal_px=settings.focal_px, focal_mm=settings.focal_mm, sensor_width_mm=settings.sensor_width_mm,
        fov_deg=settings.fov_deg, preview=settings.preview,
    )  # fmt: skip


def _redraw(context: bpy.types.Context) -> None:
    for window in context.window_manager.windows:
        for area in window.screen.areas:
            if area.type == "VIEW_3D":
                area.tag_redraw()


def tick(context: bpy.types.Context) -> CaptureSnapshot | None:
    """Mirror the running capture in the panel; on success import it. Returns the snapshot (None if idle)."""
    job = active_job()
    if job is None:
        return None
    snapshot = job.snapshot()
    status = context.window_manager.crowdmocap_status
    status.progress, status.label = snapshot.overall, snapshot.label()
    if snapshot.finished:
        _active.clear()
        status.running = False
        status.message = snapshot.message
        if snapshot.phase == "done" and snapshot.result_path is not None:
            status.message, warnings = import_capture(context, snapshot, job.footage)
            status.warnings = "\n".join(warnings)
            status.preview = str(snapshot.preview_path or "")
    _redraw(context)
    return snapshot


def wait(context: bpy.types.Context, poll_s: float = 0.25) -> CaptureSnapshot | None:
    """Follow the running capture to its end on this thread (a script's capture: no modal timer)."""
    while True:
        snapshot = tick(context)
        if snapshot is None or snapshot.finished:
            return snapshot
        time.sleep(poll_s)


def import_capture(context: bpy.types.Context, snapshot: CaptureSnapshot, footage: Path) -> tuple[str, list[str]]:
    """Build the downloaded result, behind the camera the footage the user picked (not the server's copy).
    Returns the panel's message and the import's own reports (no ground plane, footage unreadable, ...)."""
    prefs = preferences(context)
    smpl = bpy.path.abspath(prefs.smpl_model_path) if prefs is not None and prefs.smpl_model_path else None
    reports: list[str] = []
    try:
        capture = import_result(context, snapshot.result_path, smpl_model_path=smpl, footage=footage,
                                align_to_ground=context.scene.crowdmocap.ground_align,
                                report=lambda level, message: reports.append(message))  # fmt: skip
    except (ResultFormatError, SmplModelError) as exc:
        return f"Captured, but the import failed: {exc} (result kept at {snapshot.result_path})", reports
    return f"{snapshot.message} into '{capture.collection.name}'", reports


def cancel_active() -> bool:
    job = active_job()
    if job is None:
        return False
    job.cancel()
    return True


def forget_active() -> None:
    """On unregister: stop following a capture (the server job is cancelled; its thread ends by itself)."""
    cancel_active()
    _active.clear()
