"""A clip captured in overlapping segments and stitched gives the people of one run over the whole clip.

The street clip's 100 frames in two segments of 60 sharing 20, its 2D poses replayed; the single run is
the reference. Each segment's people are estimated on their own; the clean-up runs once on the stitched
clip (``inference_server/pipeline/segments.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.progress import PipelineError
from inference_server.pipeline.run import run_capture
from inference_server.pipeline.segments import estimate_segment, finish_segments, segment_ranges
from tests.helpers.same_people import pelvis_gaps
from tests.helpers.street import STREET, street_recording

RANGES = [(0, 60), (40, 100)]


def test_segment_ranges_overlap_and_cover_the_clip_on_the_stride_grid():
    assert segment_ranges(0, 100, 1, 40, 20) == RANGES
    assert segment_ranges(0, 50, 1, 40, 20) == [(0, 50)]  # fits in one segment
    assert segment_ranges(5, 100, 3, 10, 4) == [(5, 45), (35, 75), (65, 99)]  # frames 5, 8, ..., 98
    with pytest.raises(ValueError, match="at least 1 frame"):
        segment_ranges(0, 100, 1, 0, 5)


def _captures(tmp_path, **options):
    recording = street_recording()
    single = run_capture(
        STREET, tmp_path / "single.npz", CaptureOptions(**options), pose_backend_factory=recording.factory
    )
    factory = recording.factory
    parts = [estimate_segment(STREET, CaptureOptions(start=a, stop=b, **options), pose_backend_factory=factory)
             for a, b in RANGES]  # fmt: skip
    stitched = finish_segments(STREET, tmp_path / "stitched.npz", CaptureOptions(**options), parts, RANGES)
    return read_result(single.result_path), read_result(stitched.result_path), stitched


def _same_people(single, stitched) -> list[np.ndarray]:
    """Per person of the single run, metres from the stitched person showing the same keypoints (5 px)."""
    gaps = pelvis_gaps(single.people, stitched.people)
    missing = [person.id for person, gap in zip(single.people, gaps, strict=True) if gap is None]
    assert not missing, f"people {missing} of the single run are not in the stitched one"
    return gaps


@pytest.mark.slow
def test_without_the_whole_motion_fit_the_stitched_clip_is_the_single_run_exactly(tmp_path):
    single, stitched, summary = _captures(tmp_path, temporal_fit=False)
    assert summary.frames == 100 and len(stitched.people) == len(single.people)
    assert stitched.ground == single.ground  # one floor, fitted under everyone of the whole clip
    for error in _same_people(single, stitched):
        assert error.max() < 1e-6  # every person, every frame: the seams are invisible
    assert stitched.pipeline.options["stop"] is None and stitched.video.first_frame == 0


@pytest.mark.slow
def test_with_the_whole_clean_up_the_stitched_clip_stays_close_to_the_single_run(tmp_path):
    single, stitched, _ = _captures(tmp_path)
    errors = np.concatenate(_same_people(single, stitched))
    print(f"stitched vs single run: {len(stitched.people)} vs {len(single.people)} people, pelvis median "
          f"{100 * np.median(errors):.1f} cm, 90th percentile {100 * np.percentile(errors, 90):.0f} cm, floor "
          f"{single.ground.offset:.4f} vs {stitched.ground.offset:.4f} m")  # fmt: skip
    assert abs(stitched.ground.offset - single.ground.offset) < 0.05
    assert np.median(errors) < 0.15  # measured 8.0 cm (90th percentile 43 cm): the lift differs at the cut


@pytest.mark.slow
def test_a_clip_whose_camera_moves_is_not_cut_into_segments(tmp_path):
    from tests.helpers.virtual_camera import VirtualPoses, eased_move, write_virtual_clip

    camera = eased_move(40, (768, 576), 960.0, pan=6.0, tilt=0.0, roll=0.0, zoom=1.0)
    clip = write_virtual_clip(STREET, camera, tmp_path / "pan.mp4")
    poses = VirtualPoses(street_recording(), camera)
    with pytest.raises(PipelineError, match="capture it in one piece"):
        estimate_segment(clip, CaptureOptions(start=0, stop=40), pose_backend_factory=poses.factory)
