"""A raw H.264 elementary stream (``.h264``) made with PyAV: no container, so no frame count or duration."""

from __future__ import annotations

from pathlib import Path

import av

from tests.conftest import REPO

STREET = REPO / "tests" / "data" / "vtest_first10s.avi"


def write_raw_h264(path: Path, frames: int, *, source: Path = STREET) -> Path:
    """The first ``frames`` frames of ``source`` re-encoded as a bare H.264 stream at the source's rate."""
    with av.open(str(source)) as clip, av.open(str(path), "w", format="h264") as out:
        original = clip.streams.video[0]
        stream = out.add_stream("libx264", rate=original.average_rate)
        stream.width, stream.height, stream.pix_fmt = original.width, original.height, "yuv420p"
        for index, frame in enumerate(clip.decode(original)):
            if index == frames:
                break
            for packet in stream.encode(frame.reformat(format="yuv420p")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return path
