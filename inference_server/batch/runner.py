"""``run_batch``: every clip as Ray tasks, each result written as it comes back, progress across the batch.

A clip is two kinds of task (``task.py``): its estimate (one, or one per segment of a long clip), which
asks for the GPU when 3DCrowdNet runs, then its finish (stitch, clean-up, result), which asks for none.
Ray places them where the resources are, so a laptop runs two or four at once and a cluster as many as
it holds, and a GPU is free for the next clip's estimate while this one is cleaned up. Ray runs embedded
for the batch by default (no set-up) or joins a running cluster by address. Finished clips are skipped
on a re-run (``manifest.py``); a clip that fails is recorded with its reason and the batch goes on; a
worker that dies is retried; Ctrl-C cancels what is running and writes nothing more than the finished
clips.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..footage.reader import FootageError, open_footage
from ..pipeline.options import CaptureOptions
from .inputs import Clip
from .manifest import ClipRecord, fingerprint, read_manifest, write_atomically, write_manifest

MAX_RETRIES = 2  # a worker lost mid-capture (a native crash, a node gone) is tried again this many times
PROGRESS_INTERVAL_S = 2.0


class BatchCancelledError(Exception):
    """The batch was interrupted; finished clips are kept, the rest are marked cancelled."""


@dataclass(frozen=True)
class BatchProgress:
    """Where the batch stands: clips by state, the frame rate so far and the time left at that rate."""

    total: int
    done: int
    failed: int
    skipped: int
    running: int
    frames_per_s: float
    eta_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {"event": "batch", **self.__dict__}


@dataclass(frozen=True, kw_only=True)
class Resources:
    """What each clip's GPU stage asks Ray for; ``gpus=None``: one GPU when the cluster has any and the
    capture runs 3DCrowdNet (or was told ``--device cuda``), else none."""

    cpus: float = 1.0
    gpus: float | None = None


@dataclass(frozen=True, kw_only=True)
class Placement:
    """The Ray options of a clip's two kinds of task, and where the clean-up's fit runs.

    The estimate (decoding, 2D poses, tracking, 3DCrowdNet) holds the GPU; the clean-up holds none and fits
    on the CPU, unless the options asked for CUDA by name: then it holds the estimate's GPUs and fits there.
    """

    estimate: dict[str, float]
    finish: dict[str, float]
    fit_device: str | None  # None: the options' own device


def place(resources: Resources, options: CaptureOptions, *, estimator: str, cluster_gpus: float) -> Placement:
    """The placement of a batch's tasks: ``estimator`` as the capture resolves it, ``cluster_gpus`` the
    cluster's total."""
    named_cuda = options.device.startswith("cuda")
    wants_gpu = options.device != "cpu" and (estimator == "crowdnet" or named_cuda)
    gpus = resources.gpus if resources.gpus is not None else (1.0 if wants_gpu and cluster_gpus >= 1 else 0.0)
    fit_on_gpu = named_cuda and options.temporal_fit
    return Placement(estimate={"num_cpus": resources.cpus, "num_gpus": gpus},
                     finish={"num_cpus": resources.cpus, "num_gpus": gpus if fit_on_gpu else 0.0},
                     fit_device=None if fit_on_gpu or not options.temporal_fit else "cpu")  # fmt: skip


ProgressCallback = Callable[[dict[str, Any]], None]
Factory = Callable[..., Any] | None


def _frames(clip: Path, options: CaptureOptions) -> int:
    """How many frames the capture of ``clip`` will process (raises FootageError for footage it cannot open)."""
    count = open_footage(clip).info.frame_count
    stop = count if options.stop is None else min(options.stop, count)
    return len(range(options.start, stop, options.stride))


def plan_batch(clips: Sequence[Clip], out_dir: Path, options: CaptureOptions) -> tuple[list[ClipRecord], list[int]]:
    """Every clip's record and the frames each will process (0 for clips skipped or refused now): clips
    already done with the same fingerprint are skipped, clips whose footage cannot be opened fail now."""
    previous = read_manifest(out_dir)
    settings = options.as_dict()
    records, frames = [], []
    for clip in clips:
        record = ClipRecord(input=str(clip.path), result=clip.result_name)
        try:
            record.fingerprint = fingerprint(clip.path, settings)
            count = _frames(clip.path, options)
        except (OSError, FootageError) as exc:
            record.status, record.error, count = "failed", str(exc), 0
        old = previous.get(clip.result_name)
        finished = old is not None and old.status in ("done", "skipped") and old.fingerprint == record.fingerprint
        if record.status == "pending" and finished and (out_dir / clip.result_name).is_file():
            record, count = ClipRecord(**{**old.__dict__, "status": "skipped"}), 0
        records.append(record)
        frames.append(count)
    return records, frames


def _connect(address: str | None, num_cpus: int | None) -> bool:
    """Join the cluster at ``address``, or start Ray embedded; True when this call started it."""
    import ray

    if ray.is_initialized():
        return False
    if address:
        ray.init(address=address, log_to_driver=False, configure_logging=False)
    else:
        ray.init(num_cpus=num_cpus, include_dashboard=False, log_to_driver=False, configure_logging=False)
    return True


def _summary(records: list[ClipRecord], started: float) -> dict[str, Any]:
    counts = {state: sum(r.status == state for r in records) for state in ("done", "skipped", "failed", "cancelled")}
    return {"clips": len(records), **counts, "seconds": round(time.monotonic() - started, 3)}


@dataclass(frozen=True, kw_only=True)
class Segments:
    """Long clips in overlapping pieces captured in parallel (``pipeline/segments.py``): a clip of more
    than ``frames + overlap`` processed frames is cut; ``frames=None`` never cuts."""

    frames: int | None = None
    overlap: int = 50


class _Scheduler:
    """The Ray tasks of a batch: per clip, its parts' estimates (one part, or its segments), then its finish."""

    def __init__(self, clips: Sequence[Clip], options: CaptureOptions, placement: Placement, *, segments: Segments,
                 pose_backend_factory: Factory) -> None:  # fmt: skip
        import ray

        from .task import estimate_part, finish_clip

        self.clips, self.options, self.segments = clips, options, segments
        self.pose_backend_factory, self.fit_device = pose_backend_factory, placement.fit_device
        retried = {"max_retries": MAX_RETRIES, "retry_exceptions": False}
        self._estimate = ray.remote(estimate_part).options(**placement.estimate, **retried)
        self._finish = ray.remote(finish_clip).options(**placement.finish, **retried)
        self.running: dict[Any, tuple[int, str]] = {}  # ref -> (clip index, "part" | "finish")
        self._parts: dict[int, list[Any]] = {}
        self._ranges: dict[int, list[tuple[int, int | None]]] = {}

    def submit(self, index: int, frames: int) -> None:
        length = self.segments.frames
        ranges = self._cut(frames) if length is not None and frames > length + self.segments.overlap else []
        if len(ranges) > 1:
            self._submit_parts(index, ranges, whole=False)
        else:
            self._submit_parts(index, [(self.options.start, self.options.stop)], whole=True)

    def _submit_parts(self, index: int, ranges: list[tuple[int, int | None]], *, whole: bool) -> None:
        path, settings = str(self.clips[index].path), self.options.as_dict()
        self._ranges[index], self._parts[index] = ranges, []
        for start, stop in ranges:
            ref = self._estimate.remote(path, {**settings, "start": start, "stop": stop}, self.pose_backend_factory,
                                        whole=whole)  # fmt: skip
            self._parts[index].append(ref)
            self.running[ref] = (index, "part")

    def _cut(self, frames: int) -> list[tuple[int, int | None]]:
        from ..pipeline.segments import segment_ranges

        options = self.options
        stop = options.start + frames * options.stride
        return list(segment_ranges(options.start, stop, options.stride, int(self.segments.frames),
                                   self.segments.overlap))  # fmt: skip

    def ready(self, ref: Any) -> tuple[int, Any] | None:
        """The clip and the finished task whose outcome is the clip's, or None while the clip is not done."""
        import ray

        index, kind = self.running.pop(ref)
        if kind == "finish":
            return index, ref
        try:
            outcome = ray.get(ref)
        except ray.exceptions.RayError:
            outcome = None
        if outcome is not None and outcome.get("moving"):  # a moving camera: the clip is captured in one piece
            self._drop(index)
            self._submit_parts(index, [(self.options.start, self.options.stop)], whole=True)
            return None
        if outcome is None or "error" in outcome:
            self._drop(index)
            return index, ref
        if any(r in self.running for r in self._parts[index]):
            return None
        ref = self._finish.remote(str(self.clips[index].path), self.options.as_dict(), self._ranges[index],
                                  self.fit_device, *self._parts.pop(index))  # fmt: skip
        self.running[ref] = (index, "finish")
        return None

    def _drop(self, index: int) -> None:
        import ray

        for ref in self._parts.pop(index, []):
            if self.running.pop(ref, None) is not None:
                ray.cancel(ref, force=True)

    def cancel_all(self) -> set[int]:
        import ray

        for ref in self.running:
            ray.cancel(ref, force=True)
        return {index for index, _ in self.running.values()}


def run_batch(
    clips: Sequence[Clip],
    out_dir: str | Path,
    options: CaptureOptions,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    resources: Resources = Resources(),
    segments: Segments = Segments(),
    progress: ProgressCallback | None = None,
    pose_backend_factory: Factory = None,
) -> list[ClipRecord]:
    """Capture every clip into ``out_dir`` (``<name>.npz`` each, and ``batch.json``); returns the records.

    ``pose_backend_factory`` replaces the 2D stage in the workers (it must pickle; tests replay recorded
    poses). Raises OptionsError for a model the options need that is not here (before any task runs), and
    BatchCancelledError on Ctrl-C.
    """
    import ray

    from ..pipeline.model_plan import plan_models

    estimator = plan_models(options).estimator  # the GPU is asked for 3DCrowdNet only
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    records, frames = plan_batch(clips, folder, options)
    report = progress or (lambda event: None)
    todo = [i for i, r in enumerate(records) if r.status == "pending"]
    write_manifest(folder, records, _summary(records, started))
    for index, record in enumerate(records):
        if record.status != "pending":
            report({"event": "clip", "name": clips[index].name, **record.__dict__})
    if not todo:
        return records
    own_ray = _connect(address, num_cpus)
    done_frames = 0
    try:
        placement = place(resources, options, estimator=estimator,
                          cluster_gpus=ray.cluster_resources().get("GPU", 0.0))  # fmt: skip
        tasks = _Scheduler(clips, options, placement, segments=segments, pose_backend_factory=pose_backend_factory)
        for index in todo:
            tasks.submit(index, frames[index])
        try:
            while tasks.running:
                ready, _ = ray.wait(list(tasks.running), num_returns=1, timeout=PROGRESS_INTERVAL_S)
                for ref in ready:
                    finished = tasks.ready(ref)
                    if finished is None:
                        continue
                    index, outcome = finished
                    _finish(records[index], outcome, folder)
                    done_frames += frames[index] if records[index].status == "done" else 0
                    write_manifest(folder, records, _summary(records, started))
                    report({"event": "clip", "name": clips[index].name, **records[index].__dict__})
                running = len({index for index, _ in tasks.running.values()})
                report(_progress(records, frames, done_frames, running, started).as_dict())
        except KeyboardInterrupt:
            cancelled = tasks.cancel_all()
            for index in cancelled:
                records[index].status = "cancelled"
            write_manifest(folder, records, _summary(records, started))
            raise BatchCancelledError(f"interrupted: {len(cancelled)} clip(s) cancelled, finished ones kept") from None
    finally:
        if own_ray:
            ray.shutdown()
    return records


def _finish(record: ClipRecord, ref: Any, folder: Path) -> None:
    """Fill ``record`` from a finished task, writing its result file when it succeeded."""
    import ray
    from ray.exceptions import RayError

    try:
        outcome = ray.get(ref)
    except RayError as exc:  # the worker died more often than it was retried, or the task itself broke
        record.status, record.error = "failed", f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        return
    if "error" in outcome:
        record.status, record.error = "failed", outcome["error"]
        return
    write_atomically(folder / record.result, outcome.pop("data"))
    record.status, record.error = "done", None
    for name, value in outcome.items():
        setattr(record, name, value)


def _progress(records: list[ClipRecord], frames: list[int], done_frames: int, running: int,
              started: float) -> BatchProgress:  # fmt: skip
    elapsed = max(time.monotonic() - started, 1e-9)
    rate = done_frames / elapsed
    left = sum(f for f, r in zip(frames, records, strict=True) if r.status == "pending")
    return BatchProgress(total=len(records), done=sum(r.status == "done" for r in records),
                         failed=sum(r.status == "failed" for r in records),
                         skipped=sum(r.status == "skipped" for r in records), running=running,
                         frames_per_s=round(rate, 3), eta_s=round(left / rate, 1) if rate > 0 else None)  # fmt: skip
