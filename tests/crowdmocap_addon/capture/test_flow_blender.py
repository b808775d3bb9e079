"""The panel's capture flow in real Blender against a real server process on 127.0.0.1.

Headless Blender has no event loop, so the test drives ``flow_bpy.tick`` (what the modal operator runs
on each timer event) itself. The server runs in the project's main environment (.venv), whichever
Python runs these tests.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request
from dataclasses import replace
from pathlib import Path

import pytest

from crowdmocap_addon.core.result.reader import read_result
from tests.conftest import REPO

pytestmark = pytest.mark.blender

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"
MODULE = "crowdmocap_addon"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _server_python() -> str | None:
    candidate = os.environ.get("CROWDMOCAP_SERVER_PYTHON") or str(REPO / ".venv" / "bin" / "python")
    if not Path(candidate).exists():
        return None
    probe = subprocess.run([candidate, "-c", "import fastapi, uvicorn, mediapipe"], capture_output=True, check=False)
    return candidate if probe.returncode == 0 else None


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    python = _server_python()
    if python is None:
        pytest.skip("no Python with the server's packages (make setup creates .venv)")
    folder = tmp_path_factory.mktemp("server")
    port = _free_port()
    command = [python, "-m", "inference_server", "serve", "--port", str(port), "--data-dir", str(folder / "data"),
               "--models-dir", str(folder / "models")]  # fmt: skip
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url + "/v1/health", timeout=2) as response:
                json.loads(response.read())
            break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("the server did not start")
            time.sleep(0.3)
    yield url
    process.terminate()
    process.wait(20)


@pytest.fixture
def addon(bpy_empty):
    import addon_utils

    addon_utils.enable(MODULE, default_set=True)
    yield bpy_empty.context.preferences.addons[MODULE].preferences
    addon_utils.disable(MODULE, default_set=True)


def _follow(bpy, timeout: float = 240.0):
    from crowdmocap_addon.capture import flow_bpy

    flow_bpy.start_capture(bpy.context)
    labels, deadline = [], time.monotonic() + timeout
    while True:
        snapshot = flow_bpy.tick(bpy.context)
        labels.append(bpy.context.window_manager.crowdmocap_status.label)
        if snapshot is None or snapshot.finished:
            return snapshot, labels
        assert time.monotonic() < deadline, "the capture did not finish in time"
        time.sleep(0.2)


def _counts(bpy) -> dict[str, int]:
    return {name: len(getattr(bpy.data, name)) for name in ("objects", "collections", "actions", "armatures",
                                                              "meshes", "cameras")}  # fmt: skip


@pytest.mark.slow
def test_capture_uploads_shows_progress_and_imports_every_person(addon, bpy_empty, server_url):
    addon.server_url = server_url
    settings = bpy_empty.context.scene.crowdmocap
    settings.footage, settings.frame_end, settings.min_track_length = str(STREET), 12, 3  # Blender frames 1-12
    settings.ground_feet = False
    snapshot, labels = _follow(bpy_empty)
    assert snapshot.phase == "done", snapshot.message
    status = bpy_empty.context.window_manager.crowdmocap_status
    assert not status.running and "people into" in status.message
    assert any(label.startswith("Poses") and "overall" in label for label in labels)
    people = [o for o in bpy_empty.data.objects if o.type == "ARMATURE" and "_Person_" in o.name]
    assert len(people) >= 2 and all(o.animation_data and o.animation_data.action for o in people)
    assert snapshot.result_path.is_file() and MODULE not in str(snapshot.result_path.parent)
    options = read_result(snapshot.result_path).pipeline.options  # the panel's options reached the pipeline
    assert (options["start"], options["stop"], options["min_track_length"], options["ground_feet"]) == (0, 12, 3, False)
    # the camera shows the file the user picked, not the server's copy of the upload
    camera = bpy_empty.context.scene.camera.data
    assert bpy_empty.path.abspath(camera.background_images[0].clip.filepath) == str(STREET)
    assert read_result(snapshot.result_path).video.path != str(STREET)


@pytest.mark.slow
def test_a_script_captures_with_the_operator_and_gets_the_preview(addon, bpy_empty, server_url):
    addon.server_url = server_url
    settings = bpy_empty.context.scene.crowdmocap
    settings.footage, settings.frame_start, settings.frame_end, settings.min_track_length = str(STREET), 3, 8, 2
    settings.preview = True
    assert bpy_empty.ops.crowdmocap.capture() == {"FINISHED"}  # execute(): returns once imported
    status = bpy_empty.context.window_manager.crowdmocap_status
    assert not status.running and "people into" in status.message
    assert Path(status.preview).is_file() and Path(status.preview).stat().st_size > 1000
    assert bpy_empty.ops.crowdmocap.open_preview.poll()
    result = next(c for c in bpy_empty.data.collections if c.get("crowdmocap_result"))["crowdmocap_result"]
    assert (read_result(result).pipeline.options["start"], read_result(result).pipeline.options["stop"]) == (2, 8)


def test_server_down_is_reported_in_plain_words_and_the_scene_is_untouched(addon, bpy_empty):
    addon.server_url = f"http://127.0.0.1:{_free_port()}"
    bpy_empty.context.scene.crowdmocap.footage = str(STREET)
    before = _counts(bpy_empty)
    snapshot, _ = _follow(bpy_empty, timeout=30)
    assert snapshot.phase == "failed" and "Cannot reach the CrowdMocap server" in snapshot.message
    assert bpy_empty.context.window_manager.crowdmocap_status.message == snapshot.message
    assert _counts(bpy_empty) == before
    # the same from a script: the operator's error report (an exception in Python), nothing built
    with pytest.raises(RuntimeError, match="Cannot reach the CrowdMocap server"):
        bpy_empty.ops.crowdmocap.capture()
    assert _counts(bpy_empty) == before and not bpy_empty.context.window_manager.crowdmocap_status.running


def test_the_import_uses_the_picked_footage_and_passes_its_notes_on(addon, bpy_empty, tmp_path):
    from crowdmocap_addon.capture import flow_bpy
    from crowdmocap_addon.client.capture_job import CaptureSnapshot
    from tests.crowdmocap_addon.scene.scenes import exact_capture, write

    capture = exact_capture(seed=3, people=2, frames=5)
    capture.ground = None
    capture.video = replace(capture.video, path="/srv/crowdmocap/uploads/9c1e/footage.avi")  # the server's copy
    done = CaptureSnapshot(phase="done", message="Captured 2 people", result_path=write(tmp_path, capture))
    message, notes = flow_bpy.import_capture(bpy_empty.context, done, STREET)
    assert message == "Captured 2 people into 'CrowdMocap_take'"
    assert any("no ground plane" in note for note in notes)
    camera = bpy_empty.data.objects["CrowdMocap_take_camera"].data
    assert bpy_empty.path.abspath(camera.background_images[0].clip.filepath) == str(STREET)
    message, notes = flow_bpy.import_capture(bpy_empty.context, done, tmp_path / "renamed.avi")
    assert any("renamed.avi does not exist" in note for note in notes)
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK not really")
    message, _ = flow_bpy.import_capture(bpy_empty.context, replace(done, result_path=broken), STREET)
    assert message.startswith("Captured, but the import failed") and str(broken) in message


def test_the_panel_checks_the_server_in_the_background_when_it_opens(addon, bpy_empty, server_url):
    from crowdmocap_addon.capture import server_check_bpy
    from crowdmocap_addon.client.http import ServerClient

    status = bpy_empty.context.window_manager.crowdmocap_status
    assert not status.server_checked
    assert server_check_bpy.request(ServerClient(server_url, timeout=3.0))
    assert not server_check_bpy.request(ServerClient(server_url))  # one question at a time
    server_check_bpy._pending[0].join(10)
    assert server_check_bpy.deliver() is None  # headless Blender runs no timers: deliver by hand
    assert status.server_checked and status.server.startswith("Server ") and "estimators" in status.server
    assert server_check_bpy.request(ServerClient(f"http://127.0.0.1:{_free_port()}", timeout=3.0))
    server_check_bpy._pending[0].join(10)
    server_check_bpy.deliver()
    assert "Cannot reach the CrowdMocap server" in status.server


def test_the_panel_offers_import_export_and_locks_the_options_while_capturing(addon, bpy_empty):
    from crowdmocap_addon.capture.panel_bpy import VIEW3D_PT_crowdmocap

    class Layout:  # records what the panel draws, as Blender's UILayout would lay it out
        def __init__(self, log):
            self.log, self.enabled = log, True

        def row(self, **_):
            return Layout.child(self)

        column = row

        def child(self):
            child = Layout(self.log)
            child.parent = self
            return child

        def shown_enabled(self):
            return self.enabled and (getattr(self, "parent", None) is None or self.parent.shown_enabled())

        def prop(self, data, name, **_):
            self.log.append(("prop", name, self.shown_enabled()))

        def operator(self, idname, **_):
            self.log.append(("operator", idname, self.shown_enabled()))

        def label(self, text="", **_):
            self.log.append(("label", text, True))

        def progress(self, text="", **_):
            self.log.append(("progress", text, True))

    def draw():
        log = []
        VIEW3D_PT_crowdmocap.draw(type("Drawn", (), {"layout": Layout(log)})(), bpy_empty.context)
        return log

    status = bpy_empty.context.window_manager.crowdmocap_status
    status.server_checked = True  # no background question from this test
    log = draw()
    operators = [entry[1] for entry in log if entry[0] == "operator"]
    assert "import_scene.crowdmocap_result" in operators and "crowdmocap.export_crowd" in operators
    assert "crowdmocap.capture" in operators and "crowdmocap.open_preview" not in operators
    assert all(enabled for kind, _, enabled in log if kind == "prop")
    status.running, status.label, status.preview = True, "Poses 40% (31% overall)", "/tmp/take_preview.mp4"
    status.warnings = "the result has no ground plane: the camera stays at the origin"
    log = draw()
    props = {name: enabled for kind, name, enabled in log if kind == "prop"}
    assert props["footage"] is False and props["frame_start"] is False and props["estimator"] is False
    assert ("progress", "Poses 40% (31% overall)", True) in log
    assert ("label", status.warnings, True) in log
    assert ("operator", "crowdmocap.cancel_capture", True) in log
    assert ("operator", "crowdmocap.open_preview", True) in log
    status.running = False


def test_rejected_footage_and_a_failing_job_are_reported(addon, bpy_empty, server_url, tmp_path):
    addon.server_url = server_url
    settings = bpy_empty.context.scene.crowdmocap
    text = tmp_path / "holiday.mp4"
    text.write_text("this is a shopping list, not a video")
    settings.footage = str(text)
    before = _counts(bpy_empty)
    snapshot, _ = _follow(bpy_empty, timeout=30)
    assert snapshot.phase == "failed" and "The server refused" in snapshot.message and "video" in snapshot.message
    settings.footage, settings.estimator, settings.frame_end = str(STREET), "crowdnet", 3
    snapshot, _ = _follow(bpy_empty, timeout=60)
    assert snapshot.phase == "failed" and "3dcrowdnet" in snapshot.message.lower()
    assert _counts(bpy_empty) == before


def test_capture_needs_footage_and_only_one_runs_at_a_time(addon, bpy_empty, tmp_path):
    from crowdmocap_addon.capture import flow_bpy

    with pytest.raises(flow_bpy.CaptureSetupError, match="Pick the footage"):
        flow_bpy.start_capture(bpy_empty.context)
    bpy_empty.context.scene.crowdmocap.footage = str(tmp_path / "missing.mp4")
    with pytest.raises(flow_bpy.CaptureSetupError, match="does not exist"):
        flow_bpy.start_capture(bpy_empty.context)


def test_enable_disable_twice_leaves_no_panel_operators_or_properties(bpy_empty):
    import addon_utils

    for _ in range(2):
        addon_utils.enable(MODULE, default_set=True)
        assert hasattr(bpy_empty.types, "VIEW3D_PT_crowdmocap") and hasattr(bpy_empty.types, "CROWDMOCAP_OT_capture")
        assert bpy_empty.context.scene.crowdmocap.estimator == "auto"
        addon_utils.disable(MODULE, default_set=True)
        assert not hasattr(bpy_empty.types, "VIEW3D_PT_crowdmocap")
        assert not hasattr(bpy_empty.types, "CROWDMOCAP_OT_capture")
        assert not hasattr(bpy_empty.types.Scene, "crowdmocap")
        assert not hasattr(bpy_empty.types.WindowManager, "crowdmocap_status")


def test_default_options_from_the_preferences_apply_to_a_scene(addon, bpy_empty):
    addon.default_estimator, addon.default_min_track_length, addon.default_smoothing = "lift", 4, 2.5
    addon.default_ground_align = addon.default_ground_feet = False
    assert bpy_empty.ops.crowdmocap.use_default_options() == {"FINISHED"}
    settings = bpy_empty.context.scene.crowdmocap
    assert (settings.estimator, settings.min_track_length, settings.ground_align) == ("lift", 4, False)
    assert not settings.ground_feet
    assert settings.smoothing == pytest.approx(2.5)
