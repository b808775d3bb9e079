"""Reading real and generated footage: frames, timing, rotation, ranges, damaged input."""

from fractions import Fraction

import av
import cv2
import numpy as np
import pytest

from inference_server.footage import FootageError, open_footage
from tests.conftest import REPO

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


def _write_video(path, frames, *, rotation=0, pts=None, rate=25):
    """Encode RGB frames with PyAV; optional display rotation and explicit timestamps (ms)."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("mpeg4", rate=rate)
        stream.height, stream.width = frames[0].shape[:2]
        stream.pix_fmt = "yuv420p"
        if rotation:
            stream.set_display_rotation(rotation)
        if pts is not None:
            stream.time_base = Fraction(1, 1000)
        for i, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(image, format="rgb24")
            frame.pts = pts[i] if pts is not None else i
            if pts is not None:
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def test_the_street_clip_streams_all_its_frames_with_timing():
    footage = open_footage(STREET)
    assert footage.info.width == 768 and footage.info.height == 576
    assert footage.info.fps == 10 and footage.info.frame_count == 100
    frames = list(footage.frames())
    assert [f.index for f in frames] == list(range(100))
    assert frames[37].time == pytest.approx(3.7)
    assert frames[0].image.shape == (576, 768, 3) and frames[0].image.dtype == np.uint8
    assert footage.warnings == []
    # the same pixels OpenCV decodes (BGR there), give or take decoder rounding
    capture = cv2.VideoCapture(str(STREET))
    ok, bgr = capture.read()
    assert ok and np.abs(bgr[..., ::-1].astype(int) - frames[0].image.astype(int)).mean() < 2


def test_frame_range_and_stride():
    frames = list(open_footage(STREET).frames(start=10, stop=40, stride=7))
    assert [f.index for f in frames] == [10, 17, 24, 31, 38]
    assert frames[1].time == pytest.approx(1.7)
    with pytest.raises(ValueError, match="invalid frame range"):
        next(open_footage(STREET).frames(stride=0))


def test_rotation_metadata_is_applied(tmp_path):
    image = np.zeros((32, 64, 3), np.uint8)
    image[:, :16] = 255  # a white band on the left of the stored frame
    path = _write_video(tmp_path / "phone.mp4", [image] * 3, rotation=90)
    footage = open_footage(path)
    assert footage.info.rotation == 90 and (footage.info.width, footage.info.height) == (32, 64)
    shown = next(footage.frames()).image
    assert shown.shape == (64, 32, 3)
    # 90 degrees counter-clockwise: the left band becomes the bottom band
    assert shown[-8:].mean() > 200 and shown[:40].mean() < 30


def test_variable_frame_rate_keeps_true_timestamps(tmp_path):
    frames = [np.full((32, 32, 3), i * 40, np.uint8) for i in range(5)]
    path = _write_video(tmp_path / "vfr.mp4", frames, pts=[0, 40, 80, 200, 240])
    times = [f.time for f in open_footage(path).frames()]
    np.testing.assert_allclose(times, [0.0, 0.04, 0.08, 0.2, 0.24], atol=1e-6)


def test_truncated_file_yields_what_decodes_and_warns(tmp_path):
    data = STREET.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[: len(data) // 2])
    footage = open_footage(cut)
    frames = list(footage.frames())
    assert 20 < len(frames) < 100
    assert footage.warnings and "truncated" in footage.warnings[0] and "cut.avi" in footage.warnings[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "the file is empty"), (b"this is not a video at all" * 100, "cannot be read as video")],
)
def test_unreadable_files_raise_with_the_file_named(tmp_path, content, message):
    path = tmp_path / "clip.mp4"
    path.write_bytes(content)
    with pytest.raises(FootageError, match=message) as err:
        open_footage(path)
    assert "clip.mp4" in str(err.value)
    with pytest.raises(FootageError, match="no such file"):
        open_footage(tmp_path / "absent.mp4")


def test_image_folder_in_natural_order_with_a_broken_image(tmp_path):
    for i in (1, 2, 10):
        cv2.imwrite(str(tmp_path / f"frame{i}.png"), np.full((20, 30, 3), i, np.uint8))
    (tmp_path / "frame3.png").write_bytes(b"broken")
    (tmp_path / "notes.txt").write_text("ignored")
    footage = open_footage(tmp_path, sequence_fps=25)
    assert footage.info.frame_count == 4 and footage.info.fps == 25
    frames = list(footage.frames())
    assert [f.index for f in frames] == [0, 1, 3]
    assert [int(f.image[0, 0, 0]) for f in frames] == [1, 2, 10]
    assert frames[2].time == pytest.approx(3 / 25)
    assert "frame3.png" in footage.warnings[0]
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(FootageError, match="holds no images"):
        open_footage(empty)
