"""Video frames on the scene timeline, and exact frame rates."""

import numpy as np
import pytest

from crowdmocap_addon.scene.timeline import FRAME_OFFSET, scene_fps, scene_frame_range, scene_frames
from tests.helpers.captures import make_capture


@pytest.mark.parametrize(
    ("rational", "expected"),
    [((30000, 1001), (30000, 1001.0)), ((25, 1), (25, 1.0)), ((50, 2), (25, 1.0)), ((24000, 1001), (24000, 1001.0))],
)
def test_scene_fps_is_the_exact_reduced_ratio(rational, expected):
    assert scene_fps(rational) == expected


def test_a_numerator_blender_cannot_hold_keeps_the_rate_through_fps_base():
    fps, base = scene_fps((1_000_003, 10_000))
    assert fps == 100
    assert fps / base == pytest.approx(100.0003, rel=1e-9)


def test_scene_fps_refuses_nonsense():
    with pytest.raises(ValueError, match="positive"):
        scene_fps((0, 1))


def test_video_frame_f_lands_on_scene_frame_f_plus_one():
    assert FRAME_OFFSET == 1
    np.testing.assert_array_equal(scene_frames(np.array([0, 2, 4])), [1.0, 3.0, 5.0])


def test_frame_range_covers_every_person_or_else_the_clip():
    capture = make_capture(people=3, frames=10)
    first = min(int(t.frames[0]) for t in capture.people)
    last = max(int(t.frames[-1]) for t in capture.people)
    assert scene_frame_range(capture) == (first + 1, last + 1)
    capture.people = []
    assert scene_frame_range(capture) == (1, capture.video.frame_count)
