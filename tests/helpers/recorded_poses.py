"""BlazePose's answers on a clip, recorded once into a small ``.npz`` and replayed as a pose backend.

Most tests need BlazePose's real output on the street clip, not BlazePose itself; running the model
costs about half a second a frame. ``scripts/record_poses.py`` writes the recording, ``RecordedPoses``
serves it frame by frame with the ``PoseBackend`` interface, and one slow test checks that live
BlazePose still gives what was recorded.

Layout: per frame its index, time, a thumbnail (to refuse frames that are not the recorded ones) and
where its people start in the flat per-person arrays; per person COCO keypoints, box, score (float32)
and BlazePose world landmarks (float16: under a millimetre off), with a flag where a person had none.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from inference_server.poses2d.types import FramePoses, PersonPose

if TYPE_CHECKING:
    from inference_server.pipeline.model_plan import ModelPlan

STREET_POSES = Path(__file__).resolve().parents[1] / "data" / "vtest_first10s_blazepose.npz"
# The backend as recorded: HOG proposals and MediaPipe's solution (no npm models), one look per proposal
# (the recording predates the second look). The suite replays it as a stand-in for any 2D stage.
REPLAY_NOTICE = "replay_cli: 2D poses replayed from"
SIGNATURE_SIZE = (24, 18)  # thumbnail width, height
SIGNATURE_TOLERANCE = 2  # grey levels: decoding gives the same frame again; neighbouring frames differ by >= 5


def frame_signature(image: np.ndarray) -> np.ndarray:
    """(H, W, 3) RGB -> (18, 24) uint8 grey thumbnail: tells each recorded frame from its neighbours and other clips."""
    return cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), SIGNATURE_SIZE, interpolation=cv2.INTER_AREA)


@dataclass(frozen=True)
class Recording:
    """Every frame's poses, and what is needed to check that a frame is the one recorded."""

    frames: dict[int, FramePoses]
    signatures: dict[int, np.ndarray]
    size: tuple[int, int]  # width, height
    backend: str
    source: str

    def factory(self, plan: ModelPlan | None = None) -> RecordedPoses:
        """A ``PoseBackendFactory``: a fresh replay backend, whatever backend the plan names."""
        return RecordedPoses(self)


def write_recording(path: Path, frames: Sequence[FramePoses], signatures: Sequence[np.ndarray], *,
                    size: tuple[int, int], backend: str, source: str) -> Path:  # fmt: skip
    """Store ``frames`` (and each frame's ``frame_signature``) compressed at ``path``."""
    people = [person for frame in frames for person in frame.people]
    world = np.zeros((len(people), 33, 3), dtype=np.float16)
    for row, person in enumerate(people):
        if person.world_landmarks is not None:
            world[row] = person.world_landmarks
    np.savez_compressed(
        path,
        frame_index=np.array([f.index for f in frames], dtype=np.int32),
        frame_time=np.array([f.time for f in frames], dtype=np.float64),
        frame_signature=np.array(signatures, dtype=np.uint8).reshape(len(frames), *SIGNATURE_SIZE[::-1]),
        people_per_frame=np.array([len(f.people) for f in frames], dtype=np.int32),
        keypoints=np.array([p.keypoints for p in people], dtype=np.float32).reshape(-1, 17, 3),
        box=np.array([p.box for p in people], dtype=np.float32).reshape(-1, 4),
        score=np.array([p.score for p in people], dtype=np.float32),
        world_landmarks=world,
        has_world=np.array([p.world_landmarks is not None for p in people], dtype=bool),
        size=np.array(size, dtype=np.int32),
        backend=np.array(backend),
        source=np.array(source),
    )
    return path


def _person(data: dict[str, np.ndarray], row: int) -> PersonPose:
    world = data["world_landmarks"][row].astype(np.float64) if data["has_world"][row] else None
    return PersonPose(data["keypoints"][row].astype(np.float64), data["box"][row].astype(np.float64),
                      float(data["score"][row]), world)  # fmt: skip


def load_recording(path: Path = STREET_POSES) -> Recording:
    """Read a recording written by ``write_recording``."""
    with np.load(path) as npz:
        data = {name: npz[name] for name in npz.files}
    starts = np.concatenate([[0], np.cumsum(data["people_per_frame"])])
    frames, signatures = {}, {}
    for slot, index in enumerate(data["frame_index"].tolist()):
        people = [_person(data, row) for row in range(starts[slot], starts[slot + 1])]
        frames[index] = FramePoses(index, float(data["frame_time"][slot]), people)
        signatures[index] = data["frame_signature"][slot]
    width, height = data["size"].tolist()
    return Recording(frames, signatures, (width, height), str(data["backend"]), str(data["source"]))


class RecordedPoses:
    """A pose backend answering each frame with the recorded poses; refuses frames it did not record."""

    name = "blazepose-topdown"

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.calls = 0
        self.closed = False

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        self.calls += 1
        recorded = self.recording.frames.get(index)
        if recorded is None:
            raise LookupError(f"frame {index} is not in the recording of {self.recording.source}")
        width, height = self.recording.size
        if image.shape != (height, width, 3):
            raise ValueError(f"frame {index} is {image.shape}, the recording is {width}x{height}")
        thumbnail = frame_signature(image).astype(np.int16)
        drift = int(np.abs(thumbnail - self.recording.signatures[index]).max())
        if drift > SIGNATURE_TOLERANCE:
            raise ValueError(f"frame {index} is not the frame recorded from {self.recording.source} "
                             f"(its thumbnail is {drift} grey levels off)")  # fmt: skip
        return FramePoses(index, time, list(recorded.people))

    def close(self) -> None:
        self.closed = True


class AnnouncedReplay:
    """A picklable ``PoseBackendFactory`` serving a recording file, saying so on stderr each time it is used
    (tests check that replay did happen); with ``abort_at_frame`` the backend aborts the process at that
    frame, a real native crash for the server's supervision to meet.

    Picklable so that a capture child process can be given it: the recording loads in the process that
    opens it.
    """

    def __init__(self, recording: Path, abort_at_frame: int | None = None) -> None:
        self.recording, self.abort_at_frame = recording, abort_at_frame

    def __call__(self, plan: ModelPlan) -> RecordedPoses:
        recording = load_recording(self.recording)
        print(f"{REPLAY_NOTICE} {recording.source}", file=sys.stderr, flush=True)
        return recording.factory(plan) if self.abort_at_frame is None else _Aborting(recording, self.abort_at_frame)


class _Aborting(RecordedPoses):
    def __init__(self, recording: Recording, frame: int) -> None:
        super().__init__(recording)
        self.frame = frame

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> Any:
        if index >= self.frame:
            print(f"replay_cli: aborting at frame {index}", file=sys.stderr, flush=True)
            os.abort()
        return super().__call__(image, index, time)


def record_default_stage(clip: Path, models: Path | None = None) -> list[FramePoses]:
    """Every frame's poses as a capture of ``clip`` with the default options finds them: the default
    backend, fed the tracker's expected regions (``pose_and_track``), so the recording is what the
    pipeline sees. The models come from ``models`` (default: the models folder, ``crowdmocap-server models
    fetch``); without them the default falls back to HOG and MediaPipe, which is not what was recorded."""
    from inference_server.pipeline.backends import open_pose_backend
    from inference_server.pipeline.options import CaptureOptions
    from inference_server.pipeline.progress import CancelToken, StageMeter
    from inference_server.pipeline.run import plan_capture
    from inference_server.pipeline.stream import pose_and_track
    from inference_server.tracking.tracker import Tracker

    options = CaptureOptions(models_dir=None if models is None else str(models))
    plan = plan_capture(clip, options)
    recorder = _Recorder(open_pose_backend(plan.models))
    try:
        pose_and_track(plan.clip, plan.span, backend=recorder, tracker=Tracker(), cancel=CancelToken(),
                       meter=StageMeter("poses", plan.total, "frames", None),
                       tracked_regions=options.tracked_regions)  # fmt: skip
    finally:
        recorder.close()
    return recorder.frames


class _Recorder:
    """A pose backend that keeps what the backend it wraps answered."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.name, self.frames = backend, backend.name, []
        self.takes_regions = getattr(backend, "takes_regions", False)

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0, **regions: Any) -> FramePoses:
        found = self.backend(image, index, time, **regions)
        self.frames.append(found)
        return found

    def close(self) -> None:
        self.backend.close()
