"""The shared street clip through the embedded 2D stage, computed once per test session (about 50 s)."""

from __future__ import annotations

from functools import cache

from inference_server.footage import open_footage
from inference_server.poses2d.types import FramePoses
from tests.conftest import REPO

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


@cache
def street_poses() -> tuple[FramePoses, ...]:
    from inference_server.poses2d.blazepose import BlazePoseTopDown

    with BlazePoseTopDown() as backend:
        return tuple(backend(f.image, f.index, f.time) for f in open_footage(STREET).frames())
