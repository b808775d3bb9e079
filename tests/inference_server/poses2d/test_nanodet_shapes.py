"""Real NanoDet-g on street frames of other shapes: a wide or doubled frame loses nobody a 4:3 frame shows.

The street clip is 4:3; cut to 16:9 or put side by side with itself (2.67:1), the same people must still
be found. Stretched to the square input as the reference recipe does, the doubled frame loses nearly all
of them (measured: 16 of 194 over 20 frames; ``bench/detector_aspect.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from inference_server.footage.reader import open_footage
from inference_server.model_files.catalogue import find_spec
from inference_server.poses2d import nanodet
from inference_server.poses2d.boxes import box_iou
from tests.conftest import FETCHED_MODELS, REPO

FRAMES = (0, 50, 90)


@pytest.fixture(scope="module")
def detector() -> nanodet.NanoDetDetector:
    model = find_spec("nanodet-g").locate(FETCHED_MODELS)
    if model is None:
        pytest.skip(f"NanoDet-g is not fetched into {FETCHED_MODELS}: `crowdmocap-server models fetch nanodet-g`")
    return nanodet.NanoDetDetector(model)


@pytest.fixture(scope="module")
def street() -> list[np.ndarray]:
    frames = open_footage(REPO / "tests" / "data" / "vtest_first10s.avi").frames(stop=max(FRAMES) + 1)
    return [frame.image for frame in frames if frame.index in FRAMES]


def found(seen: np.ndarray, boxes: np.ndarray) -> int:
    """How many of ``seen`` (the 4:3 frame's boxes) reappear among ``boxes`` at IoU >= 0.5."""
    return int((box_iou(seen, boxes).max(axis=1) >= 0.5).sum()) if len(boxes) else 0


def stretched_boxes(detector: nanodet.NanoDetDetector, image: np.ndarray) -> np.ndarray:
    blob, to_frame = nanodet.stretched(image)
    scores, distributions = detector.raw(blob)
    return nanodet.decode(scores, distributions, to_frame, image.shape[:2], score_threshold=0.4)[0]


def test_a_four_three_frame_is_seen_exactly_as_the_reference_recipe_sees_it(detector, street):
    for image in street:
        np.testing.assert_array_equal(detector(image)[0], stretched_boxes(detector, image))


def test_two_frames_side_by_side_keep_both_copies_of_everyone(detector, street):
    total = kept = kept_stretched = 0
    for image in street:
        seen = detector(image)[0]
        doubled = np.ascontiguousarray(np.tile(image, (1, 2, 1)))
        boxes, right = detector(doubled)[0], np.array([image.shape[1], 0, image.shape[1], 0])
        total += 2 * len(seen)
        kept += found(seen, boxes) + found(seen + right, boxes)
        stretched = stretched_boxes(detector, doubled)
        kept_stretched += found(seen, stretched) + found(seen + right, stretched)
    assert total >= 20 and kept >= 0.9 * total, (kept, total)
    assert kept_stretched <= 0.5 * total, (kept_stretched, total)  # what it was before: why the windows exist


def test_a_sixteen_nine_band_keeps_the_people_inside_it(detector, street):
    inside = kept = 0
    for image in street:
        seen = detector(image)[0]
        whole = seen[(seen[:, 1] >= 72) & (seen[:, 3] <= 504)] - [0, 72, 0, 72]  # wholly inside rows 72-504
        boxes = detector(np.ascontiguousarray(image[72:504]))[0]
        assert len(boxes) <= len(seen) + 1  # padding invents nobody
        inside, kept = inside + len(whole), kept + found(whole, boxes)
    assert inside >= 9 and kept >= inside - 1, (kept, inside)
