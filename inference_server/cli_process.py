"""``crowdmocap-server process``: one clip in, one result file (and optionally a preview video) out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TextIO

from crowdmocap_addon.core.options import CAPTURE_OPTIONS, CLI, Option, on

from .pipeline.options import DEVICES, CaptureOptions
from .pipeline.progress import ProgressEvent

EXIT_OK, EXIT_BAD_INPUT, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


class TerminalProgress:
    """One self-rewriting status line per stage on a terminal (stderr), nothing when not a terminal."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream, self._stage = stream, None

    def __call__(self, event: ProgressEvent) -> None:
        if not self.stream.isatty():
            return
        if self._stage not in (None, event.stage):
            self.stream.write("\n")
        self._stage = event.stage
        width = 30
        filled = round(width * event.done / event.total) if event.total else 0
        eta = f" ETA {event.eta_s:5.0f}s" if event.eta_s is not None and event.done < event.total else ""
        bar = "#" * filled + "-" * (width - filled)
        self.stream.write(f"\r{event.stage:>8} [{bar}] {event.done}/{event.total} {event.unit}{eta}   ")
        self.stream.flush()


def json_progress(stream: TextIO = sys.stdout):
    """Machine-readable progress: one JSON object per line, flushed at once (for pipelines and wrappers)."""

    def report(event: ProgressEvent) -> None:
        stream.write(json.dumps({"event": "progress", **event.as_dict()}) + "\n")
        stream.flush()

    return report


def capture_options(args: argparse.Namespace) -> CaptureOptions:
    given = lambda v: None if v is None else str(v)  # noqa: E731
    shared = {name: getattr(args, name) for name in on(CLI, CAPTURE_OPTIONS)}
    return CaptureOptions(
        pose_model=given(args.pose_model), detector_model=given(args.detector_model),
        checkpoint=given(args.checkpoint), smpl_model=given(args.smpl_model), vposer=given(args.vposer),
        models_dir=given(args.models_dir), device=args.device, start=args.start, stop=args.stop, stride=args.stride,
        max_people=args.max_people, focal_px=args.focal_px, focal_mm=args.focal_mm,
        sensor_width_mm=args.sensor_width_mm, fov_deg=args.fov, **shared,
    )  # fmt: skip


def _add_option(group: argparse._ArgumentGroup, option: Option) -> None:
    """One flag from the option table: ``--no-NAME`` for what is on by default, ``--NAME`` for what is off,
    else ``--NAME VALUE``."""
    flag = option.name.replace("_", "-")
    if option.kind is bool and option.default:
        group.add_argument(f"--no-{flag}", dest=option.name, action="store_false", help=f"do not {option.help}")
        return
    if option.kind is bool:
        group.add_argument(f"--{flag}", dest=option.name, action="store_true", help=option.help)
        return
    shown = "unset" if option.default is None else f"{option.default:g}" if option.kind is float else option.default
    group.add_argument(f"--{flag}", dest=option.name, type=option.kind, default=option.default,
                       choices=option.choices or None, help=f"{option.help} (default {shown})")  # fmt: skip


def _fail(args: argparse.Namespace, code: int, kind: str, message: str, **extra: object) -> int:
    if args.json:
        print(json.dumps({"event": "error", "kind": kind, "message": message, **extra}), flush=True)
    print(f"crowdmocap-server process: error: {message}", file=sys.stderr)
    return code


def _cmd_process(args: argparse.Namespace) -> int:
    from .pipeline import OptionsError, PipelineError, run_capture

    replaced = getattr(args, "pose_backend_factory", None)
    stage = {} if replaced is None else {"pose_backend_factory": replaced}
    progress = json_progress() if args.json else TerminalProgress()
    try:
        summary = run_capture(args.video, args.output, capture_options(args), preview=args.preview,
                              progress=progress, **stage)  # fmt: skip
    except OptionsError as exc:
        return _fail(args, EXIT_USAGE, "options", str(exc))
    except PipelineError as exc:
        return _fail(args, EXIT_BAD_INPUT, "pipeline", str(exc), **exc.as_dict())
    except KeyboardInterrupt:
        return _fail(args, EXIT_CANCELLED, "cancelled", "interrupted; nothing was written")
    if sys.stderr.isatty() and not args.json:
        sys.stderr.write("\n")
    if args.json:
        done = {"event": "done", "result": str(summary.result_path), "preview": summary.preview_path and
                str(summary.preview_path), "people": summary.people, "frames": summary.frames,
                "estimator": summary.estimator, "pose_backend": summary.pose_backend, "warnings": summary.warnings,
                "seconds": round(summary.seconds, 3)}  # fmt: skip
        print(json.dumps(done), flush=True)
        return EXIT_OK
    for warning in summary.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"wrote {summary.result_path}: {summary.people} people over {summary.frames} frames "
          f"({summary.pose_backend} 2D poses, {summary.estimator} 3D) in {summary.seconds:.1f} s")  # fmt: skip
    if summary.preview_path:
        print(f"wrote {summary.preview_path}")
    return EXIT_OK


def add_process_command(commands: argparse._SubParsersAction) -> None:
    process = commands.add_parser(
        "process", help="capture everyone in a video: 2D poses, tracks, 3D bodies -> a result file",
        description="Capture every person in VIDEO (a video file or a folder of images) as SMPL motion in one "
        "shared camera, and write the result file the Blender add-on imports. Model files are looked up in the "
        "models folder (`crowdmocap-server models`) unless given; without any, the embedded defaults run "
        "(BlazePose 2D poses, the weights-free 3D lift).",
    )  # fmt: skip
    process.add_argument("video", type=Path, help="video file, or folder of images")
    process.add_argument("-o", "--output", type=Path, required=True, help="result file to write (.npz)")
    process.add_argument(
        "--preview", type=Path, metavar="OUT.mp4", help="also write the footage with skeletons and ids"
    )
    process.add_argument("--json", action="store_true", help="print progress and the outcome as JSON lines on stdout")
    add_capture_arguments(process)
    process.set_defaults(run=_cmd_process)


def add_capture_arguments(parser: argparse.ArgumentParser) -> None:
    """Every capture option as a flag (``process`` and ``batch`` take the same); ``capture_options`` reads them."""
    models = parser.add_argument_group("models")
    _add_option(models, CAPTURE_OPTIONS["pose_backend"])
    models.add_argument("--pose-model", type=Path, help="RTMO or RTMPose .onnx file")
    models.add_argument("--detector-model", type=Path,
                        help="person detector .onnx: YOLOX for RTMPose, NanoDet-g for BlazePose (default: found in "
                             "the models folder)")  # fmt: skip
    _add_option(models, CAPTURE_OPTIONS["estimator"])
    models.add_argument("--checkpoint", type=Path, help="3DCrowdNet checkpoint file or folder")
    models.add_argument("--smpl-model", type=Path, help="SMPL model file or folder (exact body shapes)")
    models.add_argument("--vposer", type=Path, help="VPoser v1.0 folder, if the checkpoint lacks its decoder")
    models.add_argument("--models-dir", type=Path, help="models folder (default: $CROWDMOCAP_MODELS or user data)")
    run = parser.add_argument_group("what to process")
    run.add_argument("--device", choices=DEVICES, default="auto", help="where 3DCrowdNet runs (default auto)")
    run.add_argument("--start", type=int, default=0, help="first frame (default 0)")
    run.add_argument("--stop", type=int, help="stop before this frame (default: the end)")
    run.add_argument("--stride", type=int, default=1, help="process every n-th frame (default 1)")
    run.add_argument("--max-people", type=int, help="keep the N people seen longest")
    for name in ("min_track_length", "relink", "tracked_regions", "rois", "batch_size", "precision"):
        _add_option(run, CAPTURE_OPTIONS[name])
    motion = parser.add_argument_group("motion and camera")
    for name in ("smoothing", "foot_lock", "ground_feet", "fix_facing", "temporal_fit", "fit_smoothness",
                 "top_speed", "still_camera"):  # fmt: skip
        _add_option(motion, CAPTURE_OPTIONS[name])
    focal = motion.add_mutually_exclusive_group()
    focal.add_argument("--focal-px", type=float, help="focal length in pixels")
    focal.add_argument("--focal-mm", type=float, help="focal length in mm (needs --sensor-width-mm)")
    focal.add_argument("--fov", type=float, metavar="DEGREES", help="horizontal field of view")
    motion.add_argument("--sensor-width-mm", type=float, help="sensor width in mm, with --focal-mm")
