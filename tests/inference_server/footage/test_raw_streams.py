"""Streams that declare no frame count (a raw ``.h264``): counted from their packets, read to the end."""

from __future__ import annotations

import av

from inference_server.footage import open_footage

from .raw_h264 import write_raw_h264


def test_a_raw_h264_stream_without_a_frame_count_is_counted_and_read_to_the_end(tmp_path):
    path = write_raw_h264(tmp_path / "street.h264", 30)
    with av.open(str(path)) as container:  # what made the clip look empty: nothing declared
        stream = container.streams.video[0]
        assert stream.frames == 0 and stream.duration is None and container.duration is None

    footage = open_footage(path)
    assert (footage.info.frame_count, footage.info.width, footage.info.height) == (30, 768, 576)
    frames = list(footage.frames())
    assert [frame.index for frame in frames] == list(range(30))
    times = [frame.time for frame in frames]
    assert times == sorted(times) and times[-1] > times[0]
    assert frames[0].image.shape == (576, 768, 3)
    assert [frame.index for frame in footage.frames(start=5, stride=10)] == [5, 15, 25]
    assert footage.warnings == []
