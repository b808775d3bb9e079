"""``crowdmocap-server batch``: many clips captured in parallel on Ray, one result per clip, a manifest."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from .cli_process import EXIT_BAD_INPUT, EXIT_CANCELLED, EXIT_OK, EXIT_USAGE, add_capture_arguments, capture_options


class BatchTerminal:
    """One self-rewriting status line on a terminal (stderr), a line per finished clip; nothing else."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self.stream = stream

    def __call__(self, event: dict[str, Any]) -> None:
        if not self.stream.isatty():
            return
        if event["event"] == "clip":
            reason = f": {event['error']}" if event.get("error") else ""
            self.stream.write(f"\r\033[K{event['status']:>9} {event['name']}{reason}\n")
        else:
            finished = event["done"] + event["failed"] + event["skipped"]
            eta = f", ETA {event['eta_s']:.0f} s" if event["eta_s"] is not None else ""
            self.stream.write(f"\r\033[Kclips {finished}/{event['total']} ({event['failed']} failed, "
                              f"{event['running']} running), {event['frames_per_s']:.1f} frames/s{eta}")  # fmt: skip
        self.stream.flush()


def _json_lines(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch.inputs import BatchInputError, find_clips
    from .batch.runner import BatchCancelledError, Resources, Segments, run_batch
    from .pipeline import OptionsError

    try:
        import ray  # noqa: F401 - an optional extra: say so before anything else
    except ImportError:
        print("crowdmocap-server batch: error: batch capture runs on Ray, which is not installed: "
              "pip install 'crowdmocap[cluster]'", file=sys.stderr)  # fmt: skip
        return EXIT_USAGE

    try:
        options = capture_options(args)
        clips = find_clips(args.inputs)
    except (OptionsError, BatchInputError) as exc:
        print(f"crowdmocap-server batch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    resources = Resources(cpus=args.cpus_per_clip, gpus=args.gpus_per_clip)
    progress = _json_lines if args.json else BatchTerminal()
    try:
        records = run_batch(clips, args.output, options, address=args.address, num_cpus=args.num_cpus,
                            resources=resources, progress=progress, pose_backend_factory=args.pose_backend_factory,
                            segments=Segments(frames=args.segment_frames, overlap=args.segment_overlap))  # fmt: skip
    except OptionsError as exc:  # a model the options need is not here: refused before any task
        print(f"crowdmocap-server batch: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BatchCancelledError as exc:
        print(f"\ncrowdmocap-server batch: {exc}", file=sys.stderr)
        return EXIT_CANCELLED
    failed = [r for r in records if r.status == "failed"]
    if not args.json:
        done = sum(r.status == "done" for r in records)
        skipped = sum(r.status == "skipped" for r in records)
        print(f"\n{done} captured, {skipped} already done, {len(failed)} failed: {args.output / 'batch.json'}")
        for record in failed:
            reason = record.error or ""
            print(f"failed: {reason if reason.startswith(record.input) else f'{record.input}: {reason}'}",
                  file=sys.stderr)  # fmt: skip
    return EXIT_BAD_INPUT if failed else EXIT_OK


def add_batch_command(commands: argparse._SubParsersAction) -> None:
    batch = commands.add_parser(
        "batch", help="capture many clips in parallel on Ray (this machine, or a cluster)",
        description="Capture every clip INPUTS name (video files, folders of videos or of images, globs) with the "
        "options of `process`, in parallel on Ray: started for the run on this machine by default, or a running "
        "cluster with --address. Writes OUTDIR/<clip>.npz per clip and OUTDIR/batch.json (status, people, frames, "
        "quality, time, error per clip). A re-run skips clips already done with the same footage and options; a "
        "clip that fails does so alone; Ctrl-C cancels what is running and keeps what is finished.",
    )  # fmt: skip
    batch.add_argument("inputs", nargs="+", metavar="INPUT", help="video file, folder or glob")
    batch.add_argument("-o", "--output", type=Path, required=True, metavar="OUTDIR", help="folder for the results")
    batch.add_argument("--json", action="store_true", help="print progress and each clip's outcome as JSON lines")
    cluster = batch.add_argument_group("Ray")
    cluster.add_argument("--address", help="a running Ray cluster: auto, or ray://HEAD:10001 (default: start one)")
    cluster.add_argument("--num-cpus", type=int, help="CPUs of the Ray started for the run (default: all)")
    cluster.add_argument("--cpus-per-clip", type=float, default=1.0, help="CPUs per task of a clip (default 1)")
    cluster.add_argument("--gpus-per-clip", type=float,
                         help="GPUs each clip's estimate (2D poses, 3DCrowdNet) asks for; fractions share one "
                              "(default: 1 when the cluster has GPUs and 3DCrowdNet runs, else 0); the clean-up "
                              "asks for none")  # fmt: skip
    long = batch.add_argument_group("long clips")
    long.add_argument("--segment-frames", type=int, metavar="N",
                      help="cut clips of more than N + overlap processed frames into overlapping segments captured in "
                           "parallel and stitched (cameras that stand still only; default: never cut)")  # fmt: skip
    long.add_argument("--segment-overlap", type=int, default=50, metavar="M",
                      help="processed frames neighbouring segments share (default 50)")  # fmt: skip
    add_capture_arguments(batch)
    batch.set_defaults(run=_cmd_batch)
