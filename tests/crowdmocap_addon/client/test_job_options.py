"""The panel's settings become the server's JobOptions: the add-on side (pure) against the server's schema."""

import pytest

from crowdmocap_addon.client.job_options import job_options


def test_defaults_leave_unset_values_to_the_server():
    assert job_options() == {"pose_backend": "auto", "estimator": "auto", "start": 0, "stride": 1,
                             "min_track_length": 10, "smoothing": 1.0, "foot_lock": True, "ground_feet": True,
                             "fix_facing": True, "relink": True, "temporal_fit": True, "fit_smoothness": 1.0,
                             "top_speed": 4.0, "preview": False, "still_camera": False}  # fmt: skip


def test_frames_are_blenders_with_an_inclusive_end_and_focal_modes_pick_one_field():
    # scene frames 6..21 are video frames 5..20: the server's start 5, stop 21 (exclusive)
    options = job_options(frame_start=6, frame_end=21, max_people=3, focal_mode="MILLIMETRES", focal_mm=24,
                          sensor_width_mm=36, focal_px=999, fov_deg=50)  # fmt: skip
    assert (options["start"], options["stop"], options["max_people"]) == (5, 21, 3)
    assert (options["focal_mm"], options["sensor_width_mm"]) == (24.0, 36.0)
    assert "focal_px" not in options and "fov_deg" not in options
    assert job_options(focal_mode="FOV", fov_deg=60)["fov_deg"] == 60.0
    assert job_options(frame_start=1, frame_end=1)["stop"] == 1  # one frame: video frame 0
    with pytest.raises(ValueError, match="focal mode"):
        job_options(focal_mode="ZOOM")
    with pytest.raises(ValueError, match=r"end frame \(4\) comes before the start frame \(9\)"):
        job_options(frame_start=9, frame_end=4)


def test_every_option_the_panel_sends_is_accepted_by_the_server_schema():
    schemas = pytest.importorskip("inference_server.server.schemas")
    for mode in ("AUTO", "PIXELS", "MILLIMETRES", "FOV"):
        values = job_options(frame_end=9, max_people=2, focal_mode=mode, focal_px=900, focal_mm=35, fov_deg=60,
                             ground_feet=mode != "FOV")  # fmt: skip
        assert schemas.JobOptions.model_validate(values).model_dump(exclude_unset=True) == values
