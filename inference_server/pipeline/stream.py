"""The streaming part: frames are decoded, posed, tracked (and, with 3DCrowdNet, reconstructed) as they come.

Only per-frame parameters are kept (keypoints, landmarks, SMPL parameters of each person); images live
just until their batch of person crops has run, so memory stays flat however long the clip is.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..camera_motion.tracker import CameraTracker
from ..estimators.crowdnet.batcher import CrowdNetBatcher
from ..footage.reader import Footage
from ..poses2d.types import FramePoses, PoseBackend
from ..tracking.appearance import describe
from ..tracking.tracker import Tracker
from .progress import CancelToken, PipelineError, StageMeter


def pose_and_track(
    footage: Footage,
    span: tuple[int, int | None, int],
    *,
    backend: PoseBackend,
    tracker: Tracker,
    meter: StageMeter,
    cancel: CancelToken,
    batcher: CrowdNetBatcher | None = None,
    tracked_regions: bool = True,
    camera: CameraTracker | None = None,
) -> int:
    """Run the backend and the tracker over frames (start, stop, stride); returns how many were processed.

    With ``tracked_regions`` a backend that takes them also looks where the tracker expects its people.
    A ``camera`` tracker measures the camera's turn and zoom from each frame's background (its people
    masked out), and 3DCrowdNet places that frame's people with the frame's focal length.
    """
    count = 0
    for frame in footage.frames(*span):
        cancel.check()
        try:
            if tracked_regions and getattr(
                backend, "takes_regions", False
            ):  # look again where tracked people should be
                poses = backend(frame.image, frame.index, frame.time, regions=tracker.expected_regions())
            else:
                poses = backend(frame.image, frame.index, frame.time)
        except Exception as exc:
            raise PipelineError("poses", f"{backend.name} failed: {exc}", frame.index) from exc
        poses = with_appearance(frame.image, poses)
        tracker.update(poses)
        if camera is not None:
            try:
                camera.update(frame.image, [person.box for person in poses.people], frame.index)
            except Exception as exc:
                raise PipelineError("poses", f"measuring the camera's motion failed: {exc}", frame.index) from exc
        if batcher is not None:
            batcher.add(frame, poses, None if camera is None else camera.focal)
        count += 1
        meter.advance()
    if batcher is not None:
        batcher.flush()
    return count


def with_appearance(image: np.ndarray, poses: FramePoses) -> FramePoses:
    """The frame's people, each with what they look like (for re-linking after occlusions)."""
    people = [replace(person, appearance=describe(image, person.keypoints)) for person in poses.people]
    return replace(poses, people=people)
