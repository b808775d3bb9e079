"""Track-driven regions: where the detector misses a tracked person, BlazePose still looks where they should be.

Real BlazePose on the street clip's first frames; the detector is replaced by one that proposes a
walker's box on even frames only (as a detector losing a dark coat against the background would).
"""

from __future__ import annotations

import numpy as np
import pytest

from inference_server.footage.reader import open_footage
from inference_server.pipeline.progress import CancelToken, StageMeter
from inference_server.pipeline.stream import pose_and_track
from inference_server.poses2d.blazepose import BlazePoseTopDown
from inference_server.poses2d.boxes import box_iou
from inference_server.tracking.tracker import Tracker, TrackerSettings
from tests.helpers.street import STREET, street_recording

FRAMES = 12


def _walker_boxes() -> dict[int, np.ndarray]:
    """The recorded box of the clearest person of frame 0, followed by overlap through the first frames."""
    frames = street_recording().frames
    box = max(frames[0].people, key=lambda p: p.score).box
    boxes = {}
    for index in range(FRAMES):
        people = frames[index].people
        overlap = box_iou(box[None], np.stack([p.box for p in people]))[0]
        box = people[int(np.argmax(overlap))].box
        boxes[index] = box
    return boxes


class EveryOtherFrame(BlazePoseTopDown):
    """BlazePose with a detector that finds the walker on even frames and nobody on odd ones."""

    def __init__(self, boxes: dict[int, np.ndarray], *, regions: bool) -> None:
        super().__init__()
        self.boxes, self.takes_regions, self.index = boxes, regions, 0

    def detect(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        box = self.boxes[self.index]
        if self.index % 2:
            return np.zeros((0, 4)), np.zeros(0)
        centre, size = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]) * self.settings.region_scale
        return np.concatenate([centre - size / 2, centre + size / 2])[None], np.ones(1)

    def __call__(self, image, index=0, time=0.0, **regions):
        self.index = index
        return super().__call__(image, index, time, **regions)


def _walker_track(regions: bool):
    boxes = _walker_boxes()
    backend, tracker = EveryOtherFrame(boxes, regions=regions), Tracker(TrackerSettings(min_length=1))
    try:
        pose_and_track(open_footage(STREET), (0, FRAMES, 1), backend=backend, tracker=tracker,
                       meter=StageMeter("poses", FRAMES, "frames", None), cancel=CancelToken())  # fmt: skip
    finally:
        backend.close()
    (track,) = [t for t in tracker.finish() if box_iou(t.boxes[:1], boxes[0][None])[0, 0] > 0.5]
    return track, boxes


@pytest.mark.slow
def test_a_detector_missing_every_other_frame_still_gives_a_pose_on_every_frame():
    track, boxes = _walker_track(regions=True)
    assert track.observed.all() and len(track.frames) == FRAMES  # posed on the detector's blind frames too
    overlap = [box_iou(track.boxes[i : i + 1], boxes[int(f)][None])[0, 0] for i, f in enumerate(track.frames)]
    assert min(overlap) > 0.5  # and it is the walker each time, not a neighbour
    without, _ = _walker_track(regions=False)
    np.testing.assert_array_equal(without.observed, np.arange(len(without.frames)) % 2 == 0)  # the blind frames
