"""Frames too small for the pose backend are refused with a clear error before native code sees them.

Without the check, the real CLI dies on these clips: a segfault (40x40 video) and a heap abort (1x1 GIF)
inside MediaPipe/OpenCV. The subprocess runs the real backend opener, not a replay, so a crash would show.
"""

from __future__ import annotations

import subprocess
import sys

import av
import numpy as np
import pytest

from inference_server.pipeline.backends import MIN_FRAME_SIZE, frame_too_small
from inference_server.pipeline.options import CaptureOptions
from inference_server.pipeline.progress import PipelineError
from inference_server.pipeline.run import run_capture
from tests.conftest import REPO

# The smallest valid GIF89a: one black pixel (header, 2-colour palette, one image, LZW data, trailer).
ONE_PIXEL_GIF = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff,\x00\x00\x00\x00"
                 b"\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")  # fmt: skip


def _tiny_video(path, size: int = 40, frames: int = 5):
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width = stream.height = size
        stream.pix_fmt = "yuv420p"
        for _ in range(frames):
            frame = av.VideoFrame.from_ndarray(np.full((size, size, 3), 100, np.uint8), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode())
    return path


@pytest.fixture
def tiny_clips(tmp_path):
    gif = tmp_path / "one.gif"
    gif.write_bytes(ONE_PIXEL_GIF)
    return {"40x40": _tiny_video(tmp_path / "tiny.mp4"), "1x1": gif}


@pytest.mark.parametrize("size", ["40x40", "1x1"])
def test_the_cli_refuses_tiny_frames_with_exit_code_1_and_writes_nothing(tiny_clips, tmp_path, size):
    out = tmp_path / "r.npz"
    done = subprocess.run([sys.executable, "-m", "inference_server", "process", str(tiny_clips[size]), "-o", str(out)],
                          capture_output=True, text=True, timeout=300, check=False, cwd=REPO)  # fmt: skip
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert f"frames are {size} pixels, smaller than the 64x128 the blazepose pose backend needs" in done.stderr
    assert not out.exists()


def test_run_capture_refuses_before_opening_any_backend(tiny_clips, tmp_path):
    def never(plan):
        raise AssertionError("the backend must not be opened for frames it cannot take")

    with pytest.raises(PipelineError, match="smaller than the 64x128") as refused:
        run_capture(tiny_clips["40x40"], tmp_path / "r.npz", CaptureOptions(), pose_backend_factory=never)
    assert refused.value.stage == "open"


def test_each_backend_states_its_minimum():
    assert frame_too_small("blazepose", 64, 128) is None and frame_too_small("blazepose", 768, 576) is None
    assert "63x128" in frame_too_small("blazepose", 63, 128)
    assert set(MIN_FRAME_SIZE) == {"blazepose", "rtmo", "rtmpose"}
    assert frame_too_small("rtmo", 31, 500) is not None and frame_too_small("rtmo", 32, 32) is None
