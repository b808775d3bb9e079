"""Submitting a job runs the pipeline's own option checks first: a refusal is a 422 that keeps the upload.

Real HTTP on 127.0.0.1 (``live_server``), real uploads probed with PyAV, the pipeline's real checks
(``check_capture``) against the server's empty models folder; only the capture itself is the fake runner.
"""

from __future__ import annotations

import av
import numpy as np

from .conftest import STREET_CLIP, footage_folders

CLIP = STREET_CLIP.read_bytes()


def _refused(response, code: str) -> str:
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code, response.text
    return response.json()["error"]["message"]


def _nothing_kept(server) -> None:
    assert server.client.get("/v1/jobs").json()["jobs"] == []
    assert list((server.settings.data_dir / "jobs").iterdir()) == []
    assert server.runner.calls == []


def test_options_the_pipeline_would_refuse_get_a_422_at_submit_and_the_upload_stays(live_server):
    server = live_server()
    upload_id = server.upload(CLIP, "street.avi").json()["upload_id"]

    def submit(**options):
        return server.client.post("/v1/jobs", json={"upload_id": upload_id, "options": options})

    assert "sensor width" in _refused(submit(focal_mm=24), "invalid_options")
    assert "the clip has 100, start is 5000" in _refused(submit(start=5000), "invalid_options")
    assert "3dcrowdnet" in _refused(submit(estimator="crowdnet"), "missing_model")
    assert "BlazePose" in _refused(submit(pose_backend="rtmpose"), "invalid_options")  # auto became the lift
    _nothing_kept(server)
    assert (server.settings.data_dir / "uploads" / upload_id / "input.avi").is_file()  # not consumed

    accepted = submit(focal_mm=24, sensor_width_mm=36, stop=20)
    assert accepted.status_code == 202, accepted.text
    assert server.wait_state(accepted.json()["id"], "done")["state"] == "done"
    assert [call["options"].focal_mm for call in server.runner.calls] == [24]


def test_frames_too_small_for_the_pose_backend_are_refused_at_submit(live_server, tmp_path):
    tiny = tmp_path / "tiny.avi"
    with av.open(str(tiny), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 48, 48, "yuv420p"
        for index in range(5):
            frame = av.VideoFrame.from_ndarray(np.full((48, 48, 3), index * 40, np.uint8), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    server = live_server()
    upload = server.upload(tiny.read_bytes(), "tiny.avi")
    assert upload.status_code == 201, upload.text
    response = server.client.post("/v1/jobs", json={"upload_id": upload.json()["upload_id"]})
    assert "48x48 pixels" in _refused(response, "invalid_options")
    _nothing_kept(server)


def test_a_path_submission_is_checked_the_same_way(live_server, tmp_path):
    allowed, _ = footage_folders(tmp_path)
    server = live_server(allowed_paths=(allowed,))
    path = str(allowed / "street.avi")
    message = _refused(server.client.post("/v1/jobs", json={"path": path, "options": {"focal_mm": 35}}),
                       "invalid_options")  # fmt: skip
    assert "sensor width" in message
    _nothing_kept(server)
    accepted = server.client.post("/v1/jobs", json={"path": path, "options": {"fov_deg": 60}})
    assert accepted.status_code == 202, accepted.text
    assert (allowed / "street.avi").is_file()
