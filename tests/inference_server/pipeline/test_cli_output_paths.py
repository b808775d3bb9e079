"""`crowdmocap-server process` refuses an output it could not write before any capture work, with exit code 1.

The real CLI in a subprocess (2D poses replayed, ``tests.helpers.replay_cli``): its notice on stderr is printed
when the pose backend opens, so its absence shows the refusal came before the capture began.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from crowdmocap_addon.core.result.reader import read_result
from inference_server.pipeline.output_paths import NAME_MAX_BYTES, TEMP_NAME_EXTRA
from tests.helpers.replay_cli import REPLAY_NOTICE, REPO, server_command
from tests.helpers.street import STREET

LONGEST = NAME_MAX_BYTES - TEMP_NAME_EXTRA  # 241: the writer's ".{name}.XXXXXXXX.tmp" is then 255 bytes


def _process(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(server_command("process", *args), capture_output=True, text=True, timeout=600,
                          check=False, cwd=REPO)  # fmt: skip


def _refused_before_capture(done: subprocess.CompletedProcess, folder) -> str:
    assert done.returncode == 1, done.stderr
    assert REPLAY_NOTICE not in done.stderr and "Traceback" not in done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["event"] for line in lines] == ["error"]  # not one progress event: no frame was read
    assert lines[0]["kind"] == "pipeline" and lines[0]["stage"] == "write"
    assert not list(folder.rglob("*.npz")) and not list(folder.rglob("*.mp4")) and not list(folder.rglob(".*"))
    return lines[0]["cause"]


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("long name", "is 244 bytes; at most 241 fit"),
        ("parent is a file", "is a file, not a folder"),
        ("existing folder", "is an existing folder"),
    ],
)
def test_an_output_that_cannot_be_written_is_refused_before_capturing(tmp_path, case, expected):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("a file")
    output = {"long name": out / ("a" * 240 + ".npz"), "parent is a file": out / "notes.txt" / "r.npz",
              "existing folder": out}[case]  # fmt: skip
    done = _process(str(STREET), "-o", str(output), "--preview", str(out / "p.mp4"), "--stop", "5", "--json")
    assert expected in _refused_before_capture(done, out)
    assert expected in done.stderr  # what a person reads, without --json
    assert (out / "notes.txt").read_text() == "a file"


def test_a_preview_that_would_overwrite_the_footage_is_refused(tmp_path):
    clip = tmp_path / "clip.avi"
    clip.write_bytes(STREET.read_bytes())
    done = _process(str(clip), "-o", str(tmp_path / "r.npz"), "--preview", str(clip), "--stop", "5", "--json")
    assert "is the footage itself" in _refused_before_capture(done, tmp_path)
    assert clip.read_bytes() == STREET.read_bytes()


def test_the_longest_name_the_writer_has_room_for_is_written(tmp_path):
    output = tmp_path / ("b" * (LONGEST - 4) + ".npz")
    done = _process(str(STREET), "-o", str(output), "--stop", "5", "--min-track-length", "3", "--no-temporal-fit")
    assert done.returncode == 0, done.stderr
    assert read_result(output).video.frame_count == 100
    assert [path.name for path in tmp_path.iterdir()] == [output.name]  # no temporary file left
