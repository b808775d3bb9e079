"""The shared street clip and BlazePose's recorded answers on it (``tests/data/vtest_first10s_blazepose.npz``).

Replaying the recording costs milliseconds where running BlazePose costs about 50 s; one slow test
(``tests/inference_server/test_recorded_poses.py``) checks that live BlazePose still agrees with it.
"""

from __future__ import annotations

from functools import cache

from inference_server.poses2d.types import FramePoses
from tests.conftest import REPO
from tests.helpers.recorded_poses import STREET_POSES, Recording, load_recording

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


@cache
def street_recording() -> Recording:
    """The street clip's recorded poses, read once per test session."""
    return load_recording(STREET_POSES)


def street_poses() -> tuple[FramePoses, ...]:
    """Every frame's recorded BlazePose poses, in frame order."""
    frames = street_recording().frames
    return tuple(frames[index] for index in sorted(frames))
