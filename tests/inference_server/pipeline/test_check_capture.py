"""``check_capture``: what a capture is refused for before it starts, from the footage's description alone."""

from __future__ import annotations

from fractions import Fraction

import pytest

from crowdmocap_addon.core.result.schema import MAX_FRAME_INDEX
from inference_server.footage.reader import FootageInfo
from inference_server.pipeline.options import CaptureOptions, OptionsError
from inference_server.pipeline.run import check_capture

LONG = FootageInfo(path="ten_hours.mp4", width=768, height=576, fps=Fraction(30), frame_count=1_200_000)


def test_frames_past_blenders_last_one_are_refused_before_any_work():
    with pytest.raises(OptionsError, match=f"frames beyond {MAX_FRAME_INDEX} cannot be captured"):
        check_capture(CaptureOptions(start=1_000_000), LONG)
    checked = check_capture(CaptureOptions(start=1_000_000, stop=MAX_FRAME_INDEX + 1), LONG)
    assert checked.total == MAX_FRAME_INDEX + 1 - 1_000_000  # up to the last frame the format can hold
    assert check_capture(CaptureOptions(stride=2), FootageInfo(**{**LONG.__dict__, "frame_count": 100})).total == 50
