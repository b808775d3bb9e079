"""The embedded BlazePose backend on the real street clip (people counted by eye on the frames used)."""

import numpy as np
import pytest

from inference_server.footage import open_footage
from inference_server.poses2d.blazepose import BLAZEPOSE_TO_COCO, BlazePoseSettings
from inference_server.poses2d.boxes import non_max_suppression
from tests.conftest import REPO
from tests.helpers.street import street_poses

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"
# Hip centres (x, y) of every person visible in these frames, located by eye on the frames themselves.
# Frame 98 also has a tiny (~35 px) person far away on the grass at (237, 75).
PEOPLE_BY_EYE = {
    0: [(515, 195), (265, 265), (665, 282)],
    49: [(385, 220), (418, 222), (452, 212), (532, 266), (575, 262), (703, 315)],
    98: [(237, 75), (348, 236), (396, 216), (430, 222), (502, 188), (520, 188), (598, 200)],
}


def test_landmark_mapping_picks_the_coco_joints():
    # BlazePose 33: 0 nose, 2/5 eyes, 7/8 ears, 11-16 arms, 23-28 legs (left before right)
    assert BLAZEPOSE_TO_COCO == [0, 2, 5, 7, 8, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28]


def test_nms_settings_merge_duplicates_and_boxes_inside_others():
    boxes = np.array([[0, 0, 10, 20], [1, 1, 11, 21], [2, 2, 8, 12], [50, 0, 60, 20]], dtype=float)
    settings = BlazePoseSettings()
    keep = non_max_suppression(boxes, np.array([0.9, 0.8, 0.7, 0.6]), settings.nms_iou,
                               max_containment=settings.nms_containment)  # fmt: skip
    assert keep == [0, 3]


@pytest.mark.slow
def test_finds_people_on_the_street_clip_without_false_positives():
    pytest.importorskip("mediapipe")
    from inference_server.poses2d.blazepose import BlazePoseTopDown

    frames = {f.index: f for f in open_footage(STREET).frames() if f.index in PEOPLE_BY_EYE}
    found = visible = 0
    with BlazePoseTopDown() as backend:
        for index, expected in PEOPLE_BY_EYE.items():
            poses = backend(frames[index].image, index, frames[index].time)
            hips = np.array([p.keypoints[11:13, :2].mean(axis=0) for p in poses.people])
            truth = np.array(expected, dtype=float)
            distance = np.linalg.norm(hips[:, None] - truth[None], axis=2)
            assert (distance.min(axis=1) < 20).all(), f"frame {index}: a detection matches nobody"  # precision
            found += int((distance.min(axis=0) < 20).sum())
            visible += len(expected)
            for person in poses.people:
                assert person.world_landmarks.shape == (33, 3)
    # Measured: 11 of 16 (people in tight groups and behind the sign post are missed); see docs/poses2d.md.
    assert found / visible >= 0.6


@pytest.mark.slow
def test_tracks_on_the_street_clip_are_about_the_people_seen_by_eye():
    """Seven distinct people cross the 100 frames (counted by eye on frames 0-99, every 10th frame):
    three who meet by the sign post, a couple walking in from the right, a man following them, and a
    distant figure on the grass at the end."""
    pytest.importorskip("mediapipe")
    from inference_server.tracking.tracker import Tracker, TrackerSettings

    tracks = Tracker(TrackerSettings(min_length=10)).run(street_poses())
    # Measured: 11 on the default 2D stage's recording: all seven, the three by the sign post in fragments
    # (issue 14's open figure, 1.57 tracks per person: docs/poses2d.md). Fewer than seven is someone missed.
    assert 7 <= len(tracks) <= 12
    assert len({t.id for t in tracks}) == len(tracks)
    longest = max(tracks, key=lambda t: t.observed.sum())
    assert longest.observed.sum() >= 80  # measured: 86 of 100 frames for the best-followed person
