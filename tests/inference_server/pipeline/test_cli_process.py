"""`crowdmocap-server process` end to end on the shared street clip with the embedded defaults.

The process replays BlazePose's recorded poses (``tests.helpers.replay_cli``); everything else is the real CLI.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess

import av
import pytest

from crowdmocap_addon.core.result.reader import read_result
from tests.helpers.replay_cli import REPLAY_NOTICE, REPO, server_command
from tests.helpers.street import STREET


def _process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(server_command("process", *args), capture_output=True, text=True, timeout=600,
                          check=False, cwd=REPO)  # fmt: skip


@pytest.mark.slow
def test_process_the_street_clip_with_json_progress_and_a_preview(tmp_path):
    result_path, preview = tmp_path / "street.npz", tmp_path / "street.mp4"
    done = _process(str(STREET), "-o", str(result_path), "--preview", str(preview), "--stop", "40",
                    "--models-dir", str(tmp_path / "no-models"), "--json")  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert REPLAY_NOTICE in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    progress, outcome = lines[:-1], lines[-1]
    assert {e["event"] for e in progress} == {"progress"} and progress[0]["stage"] == "poses"
    assert progress[0]["total"] == 40
    assert outcome["event"] == "done" and outcome["people"] >= 3 and outcome["frames"] == 40
    assert (outcome["estimator"], outcome["pose_backend"]) == ("lift", "blazepose")
    result = read_result(result_path)
    assert len(result.people) == outcome["people"]
    assert all(person.frames.max() < 40 for person in result.people)
    with av.open(str(preview)) as video:
        frames = [f.to_ndarray(format="rgb24") for f in video.decode(video=0)]
    assert len(frames) == 40 and frames[0].shape == (576, 768, 3)


def test_process_reports_bad_input_and_bad_options_with_distinct_exit_codes(tmp_path):
    missing = _process(str(tmp_path / "nowhere.mp4"), "-o", str(tmp_path / "r.npz"))
    assert missing.returncode == 1 and "nowhere.mp4: no such file" in missing.stderr
    conflict = _process(str(STREET), "-o", str(tmp_path / "r.npz"), "--estimator", "lift", "--pose-backend", "rtmo",
                        "--json")  # fmt: skip
    assert conflict.returncode == 2 and "BlazePose" in conflict.stderr
    assert json.loads(conflict.stdout.splitlines()[-1])["kind"] == "options"
    usage = _process(str(STREET), "-o", str(tmp_path / "r.npz"), "--fov", "60", "--focal-px", "900")
    assert usage.returncode == 2 and "not allowed with" in usage.stderr
    assert not (tmp_path / "r.npz").exists()


@pytest.mark.skipif(importlib.util.find_spec("torch") is None or __import__("torch").cuda.is_available(),
                    reason="needs torch on a machine without CUDA")  # fmt: skip
def test_a_cuda_device_that_is_not_there_is_refused_before_any_work(tmp_path):
    done = _process(str(STREET), "-o", str(tmp_path / "r.npz"), "--device", "cuda", "--stop", "5")
    assert done.returncode == 2 and "CUDA is not available" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "r.npz").exists()
