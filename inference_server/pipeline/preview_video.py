"""The preview video: the footage with every tracked person's skeleton and id drawn (a second decode pass).

Decoding is cheap next to pose estimation, so the footage is simply read again once the tracks are
final (ids can change when the tracker splits a track at a long gap); only per-frame keypoints are kept.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from pathlib import Path

import av

from crowdmocap_addon.core.result.schema import CapturedPerson

from ..footage.reader import Footage
from ..preview.overlay import OverlayPerson, draw_overlay
from .progress import CancelToken, StageMeter

CODECS = ("libx264", "h264", "mpeg4")  # the first this FFmpeg build can encode


def _codec() -> str:
    for name in CODECS:
        if name in av.codecs_available:
            try:
                av.codec.Codec(name, "w")
                return name
            except Exception:  # a build without this encoder raises one of several types
                continue
    raise RuntimeError(f"none of the video encoders {', '.join(CODECS)} is available in this FFmpeg build")


def write_preview(
    footage: Footage,
    span: tuple[int, int | None, int],
    *,
    people: Sequence[CapturedPerson],
    out_path: Path,
    meter: StageMeter,
    cancel: CancelToken,
) -> Path:
    """Encode the overlay video to ``out_path`` (H.264 .mp4 where available), atomically."""
    by_frame: dict[int, list[OverlayPerson]] = {}
    for person in people:
        observed = person.confidence > 0
        for t, frame in enumerate(person.frames):
            by_frame.setdefault(int(frame), []).append(
                OverlayPerson(person.keypoints2d[t], person.bbox[t], person.id, bool(observed[t]))
            )
    rate = Fraction(footage.info.fps) / span[2]
    width, height = footage.info.width // 2 * 2, footage.info.height // 2 * 2  # yuv420p needs even sizes
    out_path.parent.mkdir(parents=True, exist_ok=True)
    partial = out_path.with_name(f".{out_path.name}.partial")
    with av.open(str(partial), mode="w", format="mp4") as container:
        stream = container.add_stream(_codec(), rate=rate.limit_denominator(100000))
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for frame in footage.frames(*span):
            cancel.check()
            image = draw_overlay(frame.image, by_frame.get(frame.index, []))[:height, :width]
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
            meter.advance()
        for packet in stream.encode():
            container.mux(packet)
    os.replace(partial, out_path)
    return out_path
