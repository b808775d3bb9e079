"""The recorded street-clip poses the suite replays: still what live BlazePose says, and served faithfully.

The slow test is the one place the suite compares BlazePose against the recording; when it fails after
an intended change to the 2D stage, re-record with ``scripts/record_poses.py``.
"""

from __future__ import annotations

import numpy as np
import pytest

from inference_server.footage import open_footage
from inference_server.poses2d.types import FramePoses, PersonPose
from tests.conftest import FETCHED_MODELS
from tests.helpers.recorded_poses import (
    STREET_POSES,
    RecordedPoses,
    frame_signature,
    load_recording,
    record_default_stage,
    write_recording,
)
from tests.helpers.street import STREET, street_poses, street_recording

LIVE_FRAMES = (0, 37, 99)  # a few frames across the clip: 3 to 7 people each
PIXELS = 3.0  # keypoints this close to the recording (measured: identical on the recording machine)


def _first_frames(count: int):
    return [frame for frame, _ in zip(open_footage(STREET).frames(), range(count), strict=False)]


@pytest.mark.slow
def test_live_blazepose_still_gives_the_recorded_poses():
    """The default 2D stage, run as a capture runs it (tracked regions included), on the whole clip."""
    from inference_server.model_files.catalogue import find_spec

    if any(find_spec(name).locate(FETCHED_MODELS) is None for name in ("nanodet-g", "blazepose-full")):
        pytest.skip("the default 2D stage's models are not in the models folder (crowdmocap-server models fetch)")
    live = [poses for poses in record_default_stage(STREET, FETCHED_MODELS) if poses.index in LIVE_FRAMES]
    assert [poses.index for poses in live] == list(LIVE_FRAMES)
    recorded = street_recording().frames
    for poses in live:
        expected = recorded[poses.index].people
        assert len(poses.people) == len(expected), f"frame {poses.index}"
        for person, twin in zip(poses.people, expected, strict=True):
            confident = twin.keypoints[:, 2] > 0.3
            assert np.abs(person.keypoints[confident, :2] - twin.keypoints[confident, :2]).max() < PIXELS
            assert np.abs(person.box - twin.box).max() < PIXELS and abs(person.score - twin.score) < 0.05
            assert np.abs(person.world_landmarks - twin.world_landmarks).max() < 0.02  # metres


def test_the_recording_covers_the_clip_and_stays_small():
    recording = street_recording()
    assert sorted(recording.frames) == list(range(100)) and recording.size == (768, 576)
    assert recording.backend == "blazepose-topdown" and recording.source.startswith("vtest_first10s.avi sha256 ")
    counts = [len(frame.people) for frame in street_poses()]
    assert min(counts) >= 1 and max(counts) <= 9  # 3 to 7 people walk through each frame
    assert all(p.world_landmarks is not None and p.world_landmarks.shape == (33, 3)
               for f in street_poses() for p in f.people)  # fmt: skip
    assert STREET_POSES.stat().st_size < 2_000_000


def test_replay_serves_each_recorded_frame_and_refuses_other_footage():
    backend = street_recording().factory()
    frames = _first_frames(3)
    served = backend(frames[2].image, 2, frames[2].time)
    recorded = street_recording().frames[2].people
    assert (served.index, served.time) == (2, frames[2].time) and len(served.people) == len(recorded) > 0
    assert all(a is b for a, b in zip(served.people, recorded, strict=True))
    with pytest.raises(ValueError, match="not the frame recorded"):
        backend(frames[0].image, 2, frames[2].time)  # frame 0's picture under frame 2's index
    with pytest.raises(ValueError, match="not the frame recorded"):
        backend(np.zeros_like(frames[0].image), 0)
    with pytest.raises(ValueError, match="768x576"):
        backend(frames[0].image[:100], 0)
    with pytest.raises(LookupError, match="frame 100 is not in the recording"):
        backend(frames[0].image, 100)
    backend.close()
    assert backend.closed and backend.calls == 5


def test_a_recording_round_trips_people_with_and_without_world_landmarks(tmp_path):
    rng = np.random.default_rng(0)
    keypoints = np.concatenate([rng.uniform(0, 500, (17, 2)), rng.uniform(0, 1, (17, 1))], axis=1)
    world = rng.uniform(-1, 1, (33, 3))
    frames = [FramePoses(4, 0.4, [PersonPose(keypoints, np.array([1.0, 2, 30, 90]), 0.8, world),
                                  PersonPose(keypoints + 5, np.array([5.0, 6, 40, 99]), 0.6, None)]),
              FramePoses(5, 0.5, [])]  # fmt: skip
    image = rng.integers(0, 255, (8, 6, 3), dtype=np.uint8)
    path = write_recording(tmp_path / "r.npz", frames, [frame_signature(image)] * 2, size=(6, 8), backend="b",
                           source="s")  # fmt: skip
    back = RecordedPoses(load_recording(path))
    first, second = back(image, 4, 0.4), back(image, 5, 0.5)
    assert [len(first.people), len(second.people)] == [2, 0]
    np.testing.assert_allclose(first.people[0].keypoints, keypoints, atol=1e-4)
    np.testing.assert_allclose(first.people[0].world_landmarks, world, atol=1e-3)  # float16: under a millimetre
    assert first.people[1].world_landmarks is None and first.people[1].score == pytest.approx(0.6)
    assert first.people[0].keypoints.dtype == np.float64  # as the live backend gives them
