"""``run_capture``: the whole pipeline, footage in, result file (and optional preview video) out."""

from __future__ import annotations

import contextlib
import logging
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from importlib import metadata
from pathlib import Path
from typing import TypeVar

import av
import numpy as np

from crowdmocap_addon.core.body.smpl_file import SmplModelData, SmplModelError, load_smpl_model
from crowdmocap_addon.core.result.schema import (
    MAX_FRAME_INDEX,
    BodyModelInfo,
    CameraMotion,
    CapturedPerson,
    CaptureResult,
    GroundPlane,
    PinholeCamera,
    PipelineInfo,
    VideoInfo,
)
from crowdmocap_addon.core.result.writer import write_result

from .. import __version__
from ..camera import CameraSpecError, full_image_camera
from ..camera_motion.tracker import CameraTracker
from ..camera_motion.world import ClipCamera, camera_warnings, people_in_clip_world, people_in_image
from ..estimators.crowdnet.batcher import CrowdNetBatcher
from ..estimators.crowdnet.errors import CheckpointError
from ..estimators.crowdnet.people import crowdnet_people
from ..estimators.lift.people import lift_people
from ..estimators.person_motion import PersonMotion
from ..footage.reader import Footage, FootageError, FootageInfo, open_footage
from ..motion.clean_up import MotionSettings, finish_people
from ..poses2d.onnx_models import OnnxModelError
from ..tracking.look_changes import split_at_look_changes
from ..tracking.relink import relink
from ..tracking.tracker import Track, Tracker, TrackerSettings
from .backends import EstimatorFactory, PoseBackendFactory, frame_too_small, open_crowdnet, open_pose_backend
from .model_plan import ModelPlan, plan_models, provenance
from .options import CaptureOptions, OptionsError
from .output_paths import check_outputs
from .preview_video import write_preview
from .progress import (
    CancelToken,
    PipelineCancelled,
    PipelineError,
    ProgressCallback,
    StageMeter,
)
from .stream import pose_and_track

log = logging.getLogger(__name__)
T = TypeVar("T")
VERSIONED_PACKAGES = ("numpy", "torch", "mediapipe", "onnxruntime", "av", "opencv-contrib-python", "smplx")


@dataclass(frozen=True)
class CaptureSummary:
    result_path: Path
    preview_path: Path | None
    people: int
    frames: int
    estimator: str
    pose_backend: str
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _versions() -> dict[str, str]:
    versions = {"crowdmocap": __version__, "python": platform.python_version()}
    for name in VERSIONED_PACKAGES:
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[name] = metadata.version(name)
    return versions


def _frames_to_process(info: FootageInfo, options: CaptureOptions) -> int:
    end = info.frame_count if options.stop is None else min(options.stop, info.frame_count)
    return max(0, -(-(end - options.start) // options.stride))


def people_tracks(tracker: Tracker, options: CaptureOptions, *, fps: float) -> list[Track]:
    """The tracker's tracks, with fragments of one person re-linked across occlusions when asked."""
    if not options.relink:
        return tracker.finish()
    fragments = split_at_look_changes(tracker.finish(min_length=1), fps)
    joined = relink(fragments, tracker.processed_frames, fps)
    return [track for track in joined if int(track.observed.sum()) >= options.min_track_length]


def _keep_people(tracks: list[Track], max_people: int | None) -> list[Track]:
    """The ``max_people`` tracks seen in the most frames (ties: the more confident), in id order."""
    if max_people is None or len(tracks) <= max_people:
        return tracks
    ranked = sorted(tracks, key=lambda t: (int(t.observed.sum()), t.confidence), reverse=True)[:max_people]
    return sorted(ranked, key=lambda t: t.id)


def _camera(info: FootageInfo, options: CaptureOptions) -> PinholeCamera:
    try:
        return full_image_camera(info.width, info.height, focal_px=options.focal_px,
                                 focal_mm=options.focal_mm, sensor_width_mm=options.sensor_width_mm,
                                 fov_deg=options.fov_deg)  # fmt: skip
    except CameraSpecError as exc:
        raise OptionsError(str(exc)) from exc


def _load_smpl(plan: ModelPlan) -> SmplModelData | None:
    if plan.smpl_model is None:
        return None
    try:
        return load_smpl_model(plan.smpl_model)
    except SmplModelError as exc:
        raise PipelineError("open", str(exc)) from exc


@dataclass(frozen=True, kw_only=True)
class CapturePlan:
    """Everything decided before any frame is read: models, footage, camera, frames to process."""

    footage: Path
    options: CaptureOptions
    models: ModelPlan
    clip: Footage
    camera: PinholeCamera
    span: tuple[int, int | None, int]  # start, stop, stride
    total: int  # frames to process


@dataclass(frozen=True, kw_only=True)
class Captured:
    """What the streaming pass and the per-person stages made, ready to be put into a result."""

    people: list[CapturedPerson]
    ground: GroundPlane | None
    frames: int
    body_kind: str
    warnings: list[str]
    camera_motion: CameraMotion | None = None  # None: the camera stood still (or was told to)


@dataclass(frozen=True)
class _Factories:
    pose_backend: PoseBackendFactory
    estimator: EstimatorFactory


def run_capture(
    footage: str | Path,
    output: str | Path,
    options: CaptureOptions | None = None,
    *,
    preview: str | Path | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    footage_name: str | None = None,
    pose_backend_factory: PoseBackendFactory = open_pose_backend,
    estimator_factory: EstimatorFactory = open_crowdnet,
) -> CaptureSummary:
    """Capture everyone in ``footage`` into the result file ``output``: plan, capture, assemble, write.

    The factories open the 2D pose backend and the 3DCrowdNet estimator the plan names; the defaults
    build the real ones, and tests pass others (recorded poses, failing stages) instead.
    ``footage_name`` is what the result records as the video's path (the server passes the name the
    client uploaded, so its own folders stay private); by default the path as given.

    Raises OptionsError (bad or missing choices, before any work), PipelineCancelled, or PipelineError
    naming the stage, the frame when one is to blame, and the cause (an output path that cannot be
    written is a PipelineError('write') before any work). Nothing is written on failure.
    """
    started = time.monotonic()
    cancel = cancel or CancelToken()
    check_outputs(footage, output, preview)
    plan = plan_capture(footage, options or CaptureOptions())
    captured = capture(plan, _Factories(pose_backend_factory, estimator_factory), progress, cancel)
    result = assemble(plan, captured, footage_name)
    cancel.check()
    result_path, preview_path = write(plan, captured, result, output, preview=preview, progress=progress,
                                      cancel=cancel)  # fmt: skip
    return summary_of(plan, captured, result_path, preview_path, seconds=time.monotonic() - started)


def summary_of(plan: CapturePlan, captured: Captured, result_path: Path, preview_path: Path | None, *,
               seconds: float = 0.0) -> CaptureSummary:  # fmt: skip
    """What a finished capture reports: the files, the people and frames, the models, every warning."""
    warnings = list(plan.models.warnings) + captured.warnings + plan.clip.warnings
    if not captured.people:
        warnings.append("no person was tracked long enough (see --min-track-length, and the preview video)")
    return CaptureSummary(result_path=result_path, preview_path=preview_path, people=len(captured.people),
                          frames=captured.frames, estimator=plan.models.estimator,
                          pose_backend=plan.models.pose_backend, warnings=warnings, seconds=seconds)  # fmt: skip


def plan_capture(footage: str | Path, options: CaptureOptions) -> CapturePlan:
    """Open the footage, then make every check of ``check_capture``; refuse an empty range.

    A CUDA device that is not there is refused here, before the 2D stage spends minutes on the clip.
    """
    try:
        clip = open_footage(footage)
    except FootageError as exc:
        raise PipelineError("open", str(exc)) from exc
    checked = check_capture(options, clip.info)
    return CapturePlan(footage=Path(footage), options=options, models=checked.models, clip=clip,
                       camera=checked.camera, span=(options.start, options.stop, options.stride),
                       total=checked.total)  # fmt: skip


@dataclass(frozen=True, kw_only=True)
class CaptureChecks:
    """What ``check_capture`` decided: the models, the camera and how many frames will be processed."""

    models: ModelPlan
    camera: PinholeCamera
    total: int


def check_capture(options: CaptureOptions, info: FootageInfo) -> CaptureChecks:
    """Every check the pipeline makes of ``options`` against the footage's description, reading no frame.

    The one implementation of them: ``plan_capture`` runs it, and the server runs it when a job is submitted,
    so a job it accepts cannot fail later for options it could have refused. Raises OptionsError (its
    MissingModelError for a model file that is not there) or PipelineError('open') for frames too small.
    """
    from ..devices import resolve_device  # torch: not imported until a capture is checked

    try:
        resolve_device(options.device)
    except RuntimeError as exc:
        raise OptionsError(str(exc)) from exc
    models = plan_models(options)
    camera = _camera(info, options)
    too_small = frame_too_small(models.pose_backend, info.width, info.height)
    if too_small:  # refused before any native code sees such a frame: some crash on them
        raise PipelineError("open", f"{info.path}: {too_small}")
    total = _frames_to_process(info, options)
    if total == 0:
        raise OptionsError(f"no frames to process: the clip has {info.frame_count}, start is {options.start}")
    last = options.start + (total - 1) * options.stride
    if last > MAX_FRAME_INDEX:  # the result format (and Blender) end there: refused now, not after the capture
        raise OptionsError(f"frames beyond {MAX_FRAME_INDEX} cannot be captured (Blender's last frame): set stop "
                           f"to at most {MAX_FRAME_INDEX + 1}, or split the clip")  # fmt: skip
    return CaptureChecks(models=models, camera=camera, total=total)


def capture(
    plan: CapturePlan, factories: _Factories, progress: ProgressCallback | None, cancel: CancelToken
) -> Captured:
    """Run the stages; a failure of any part that is not the pipeline's own becomes a PipelineError."""
    return guarded(plan, lambda: _capture(plan, factories, progress, cancel))


def guarded(plan: CapturePlan, stages: Callable[[], T]) -> T:
    """``stages()``, with a failure of any part that is not the pipeline's own made a PipelineError."""
    try:
        return stages()
    except (PipelineCancelled, PipelineError, OptionsError):
        raise
    except (CheckpointError, SmplModelError, OnnxModelError, FootageError) as exc:
        raise PipelineError("open", str(exc)) from exc
    except Exception as exc:  # the log keeps the traceback; callers get the stage and the cause
        log.exception("capture of %s failed", plan.footage)
        raise PipelineError("estimate", f"{type(exc).__name__}: {exc}") from exc


def assemble(plan: CapturePlan, captured: Captured, footage_name: str | None = None) -> CaptureResult:
    """The result file's content: the people, the camera, the floor and the full provenance."""
    info, options = plan.clip.info, plan.options
    fps = Fraction(info.fps).limit_denominator(100000)
    return CaptureResult(
        video=VideoInfo(
            path=str(plan.footage) if footage_name is None else footage_name,
            width=info.width,
            height=info.height,
            fps=float(fps),
            fps_rational=(fps.numerator, fps.denominator),
            frame_count=info.frame_count,
            first_frame=options.start,
        ),
        camera=plan.camera,
        body_model=BodyModelInfo(kind=captured.body_kind),
        pipeline=PipelineInfo(
            pose_backend=plan.models.pose_backend,
            estimator=plan.models.estimator,
            versions=_versions(),
            options={**options.as_dict(), "models": provenance(plan.models), "focal_px": plan.camera.focal_px},
        ),
        ground=captured.ground,
        people=captured.people,
        camera_motion=captured.camera_motion,
    )


def write(
    plan: CapturePlan,
    captured: Captured,
    result: CaptureResult,
    output: str | Path,
    *,
    preview: str | Path | None,
    progress: ProgressCallback | None,
    cancel: CancelToken,
) -> tuple[Path, Path | None]:
    """Write the result file, then the preview video when asked; returns both paths."""
    meter = StageMeter("write", 1, "files", progress)
    result_path = write_result(output, result)
    meter.advance()
    meter.finish()
    if preview is None:
        return result_path, None
    meter = StageMeter("preview", captured.frames, "frames", progress)
    try:
        preview_path = write_preview(plan.clip, plan.span, people=captured.people, out_path=Path(preview),
                                     meter=meter, cancel=cancel)  # fmt: skip
    except (av.FFmpegError, RuntimeError, OSError) as exc:
        raise PipelineError("preview", str(exc)) from exc
    meter.finish()
    return result_path, preview_path


@dataclass(frozen=True, kw_only=True)
class Estimated:
    """What the streaming pass and the estimators made: every person's motion in the clip's world, before
    the clean-up (which needs the whole clip at once: ``finish``)."""

    people: list[PersonMotion]
    frames: int  # processed
    body_kind: str
    warnings: list[str]
    camera: ClipCamera | None  # None: the camera stood still (or was told to)


def _capture(plan: CapturePlan, factories: _Factories, progress: ProgressCallback | None,
             cancel: CancelToken) -> Captured:  # fmt: skip
    """Stream poses (and 3DCrowdNet's crops) through the clip once, then build every person's motion."""
    return finish(plan, estimate(plan, factories, progress, cancel), progress, cancel)


def estimate(plan: CapturePlan, factories: _Factories, progress: ProgressCallback | None,
             cancel: CancelToken) -> Estimated:  # fmt: skip
    """The streaming pass (2D poses, tracks, the camera, 3DCrowdNet's crops) and every person's 3D motion."""
    options, camera, clip, total = plan.options, plan.camera, plan.clip, plan.total
    smpl = _load_smpl(plan.models) if plan.models.estimator == "lift" else None
    predictor = None
    if plan.models.estimator == "crowdnet":
        predictor, smpl = factories.estimator(plan.models, options)
    backend = factories.pose_backend(plan.models)
    tracker = Tracker(TrackerSettings(min_length=options.min_track_length))
    meter = StageMeter("poses", total, "frames", progress)
    batcher = None
    if predictor is not None:
        batcher = CrowdNetBatcher(predictor, camera, StageMeter("estimate", total, "frames", progress))
    camera_tracker = None if options.still_camera else CameraTracker(camera.focal_px)
    try:
        processed = pose_and_track(
            clip,
            plan.span,
            backend=backend,
            tracker=tracker,
            meter=meter,
            cancel=cancel,
            batcher=batcher,
            tracked_regions=options.tracked_regions,
            camera=camera_tracker,
        )
    finally:
        backend.close()
    meter.finish()
    tracks = _keep_people(people_tracks(tracker, options, fps=float(clip.info.fps) / options.stride),
                          options.max_people)  # fmt: skip
    clip_camera, warnings = _measured_camera(camera_tracker, camera)
    people_meter = StageMeter("estimate", len(tracks), "people", progress)
    people: list[PersonMotion]
    if batcher is not None and smpl is not None:
        people, estimate_warnings = crowdnet_people(tracks, batcher.estimates, smpl, people_meter, cancel)
        warnings += estimate_warnings
    else:
        people = lift_people(tracks, smpl, camera, people_meter, cancel, camera_motion=clip_camera)
    people_meter.finish()  # the lift takes well under a second now: it may never reach a reporting interval
    if clip_camera is not None and camera_tracker is not None:
        row_seconds = options.stride / float(clip.info.fps)
        people, clip_camera = people_in_clip_world(people, clip_camera, camera_tracker.floor_steps, row_seconds)
        if any(camera_tracker.translating) and clip_camera.centres is None:
            warnings.append("camera: the footage shows the camera moving (parallax), but no floor was found under "
                            "the people to measure how far: their paths carry the camera's movement")  # fmt: skip
    return Estimated(people=people, frames=processed, body_kind="smpl" if smpl is not None else "standin",
                     warnings=warnings, camera=clip_camera)  # fmt: skip


def finish(plan: CapturePlan, estimated: Estimated, progress: ProgressCallback | None,
           cancel: CancelToken, *, fit_device: str | None = None) -> Captured:  # fmt: skip
    """The clean-up of everyone's motion over the whole clip, then their keypoints back in the image.

    ``fit_device`` runs the whole-motion fit elsewhere than ``options.device`` (a batch's clean-up task,
    which holds no GPU, passes "cpu"); the result still records the options as given.
    """
    options, camera, clip, people = plan.options, plan.camera, plan.clip, estimated.people
    settings = MotionSettings(fps=float(clip.info.fps) / options.stride, smoothing=options.smoothing,
                              foot_lock=options.foot_lock, ground_feet=options.ground_feet,
                              fix_facing=options.fix_facing, temporal_fit=options.temporal_fit,
                              fit_smoothness=options.fit_smoothness, fit_top_speed=options.top_speed,
                              device=fit_device or options.device)  # fmt: skip
    motion_meter = StageMeter("motion", len(people), "people", progress)
    finished, ground = finish_people(people, camera, settings, motion_meter, cancel)
    motion_meter.finish()  # a fast stage may never have reached its reporting interval
    clip_camera = estimated.camera
    if clip_camera is not None:
        finished = people_in_image(finished, clip_camera)
    return Captured(people=finished, ground=ground, frames=estimated.frames, body_kind=estimated.body_kind,
                    warnings=list(estimated.warnings),
                    camera_motion=None if clip_camera is None else clip_camera.motion())  # fmt: skip


def _measured_camera(tracker: CameraTracker | None, camera: PinholeCamera) -> tuple[ClipCamera | None, list[str]]:
    """The clip's measured camera (None when it stood still, or was told to) and what to report about it:
    frames it could not measure are reported even when nothing else moved."""
    if tracker is None or not tracker.frames:
        return None, []
    measured = ClipCamera(frames=np.array(tracker.frames, dtype=np.int64), path=tracker.finish(),
                          principal_point=camera.principal_point)  # fmt: skip
    return (None if measured.still else measured), camera_warnings(measured)
