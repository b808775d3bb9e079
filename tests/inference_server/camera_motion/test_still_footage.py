"""Tripod footage comes out as a still camera over the whole clip: no drift is invented from walkers or noise."""

from __future__ import annotations

import av
import numpy as np
import pytest

from inference_server.camera_motion.tracker import CameraTracker
from inference_server.camera_motion.world import ClipCamera
from tests.conftest import REPO
from tests.helpers.street import STREET, street_recording

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("clip", "masked"), [(STREET, True), (REPO / "tests" / "data" / "vtest_25s_to_50s.avi", False)]
)
def test_a_tripod_clip_is_measured_exactly_still_from_first_frame_to_last(clip, masked):
    """Both shared street clips, every frame (100 and 250), people masked by their recorded boxes where a
    recording exists and not masked at all where none does."""
    recording = street_recording() if masked else None
    tracker = CameraTracker(960.0)
    with av.open(str(clip)) as video:
        for index, frame in enumerate(video.decode(video=0)):
            boxes = [p.box for p in recording.frames[index].people] if recording is not None else []
            tracker.update(frame.to_ndarray(format="rgb24"), boxes, index)
    path = tracker.finish()
    camera = ClipCamera(frames=np.array(tracker.frames), path=path, principal_point=(384.0, 288.0))
    drift = np.degrees(np.arccos(np.clip((np.trace(path.rotations, axis1=1, axis2=2) - 1) / 2, -1, 1))).max()
    print(f"{clip.name}: {len(tracker.frames)} frames, worst drift {drift:.4f} deg, focal {path.focals.min():.2f}-"
          f"{path.focals.max():.2f} px, {int((~path.reliable).sum())} unmeasured")  # fmt: skip
    assert len(tracker.frames) >= 100 and path.reliable.all()
    assert drift < 0.01 and np.ptp(path.focals) < 0.01  # measured: exactly 0 on both clips
    assert camera.still  # so the result stays the compact, still-camera case
