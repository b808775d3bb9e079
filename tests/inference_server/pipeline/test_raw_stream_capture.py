"""A capture of a raw ``.h264`` stream (no frame count in any header): planned and run over all its frames.

The 2D stage replays BlazePose's recorded poses on the street clip, whose first 30 frames the stream holds.
"""

from __future__ import annotations

import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.pipeline.options import CaptureOptions, OptionsError
from inference_server.pipeline.run import plan_capture, run_capture
from tests.helpers.recorded_poses import RecordedPoses
from tests.helpers.street import street_recording
from tests.inference_server.footage.raw_h264 import write_raw_h264

FRAMES = 30


@pytest.fixture(scope="module")
def raw_stream(tmp_path_factory):
    return write_raw_h264(tmp_path_factory.mktemp("raw") / "street.h264", FRAMES)


def test_plan_capture_counts_the_frames_of_a_raw_h264_stream(raw_stream):
    assert plan_capture(raw_stream, CaptureOptions()).total == FRAMES
    assert plan_capture(raw_stream, CaptureOptions(start=10, stride=4)).total == 5  # 10, 14, ..., 26
    with pytest.raises(OptionsError, match=f"the clip has {FRAMES}, start is 40"):
        plan_capture(raw_stream, CaptureOptions(start=40))


def test_a_raw_h264_stream_is_captured_to_its_last_frame(raw_stream, tmp_path):
    events = []
    summary = run_capture(raw_stream, tmp_path / "r.npz", CaptureOptions(min_track_length=5, temporal_fit=False),
                          progress=events.append,
                          pose_backend_factory=lambda plan: RecordedPoses(street_recording()))  # fmt: skip
    assert summary.frames == FRAMES and summary.people >= 1
    result = read_result(summary.result_path)
    assert result.video.frame_count == FRAMES  # (the rate is FFmpeg's guess: a bare stream may not carry one)
    assert max(int(person.frames.max()) for person in result.people) >= FRAMES - 5
    poses = [event for event in events if event.stage == "poses"]
    assert {event.total for event in poses} == {FRAMES} and poses[-1].done == FRAMES
    assert not [warning for warning in summary.warnings if "truncated" in warning]
