"""Read footage as a stream of RGB frames with their true timestamps.

Videos are decoded with PyAV (FFmpeg): rotation metadata is applied so frames come out the way a
player shows them, and each frame's time comes from its presentation timestamp, so variable-frame-rate
clips keep correct timing. Image folders are read in natural order (frame2 before frame10) at a frame
rate the caller gives. Frames are yielded one at a time: memory does not grow with clip length.

A file that cannot be opened, or yields no frame, raises FootageError naming the file and the cause.
A file that breaks part-way yields the frames that decode and records a warning naming the frame.

Some inputs declare neither a frame count nor a duration (a raw H.264 or H.265 elementary stream such as
``.h264``): their frames are counted once by reading the packets without decoding them (cheap next to a
decode, and memory stays flat), so the clip's length is known before any frame is processed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
DEFAULT_SEQUENCE_FPS = Fraction(30)


class FootageError(Exception):
    """Footage that cannot be read; the message names the file and what failed."""


@dataclass(kw_only=True, frozen=True)
class FootageInfo:
    path: str
    width: int  # as displayed (after rotation)
    height: int
    fps: Fraction  # nominal rate; exact timing is per frame
    frame_count: int  # from the container (or its packets, when it declares none); exact for image folders
    rotation: int = 0  # degrees counter-clockwise applied to decoded frames


@dataclass(frozen=True)
class Frame:
    index: int  # 0-based position in the footage
    time: float  # seconds from the start, from the frame's own timestamp
    image: np.ndarray  # (H, W, 3) uint8 RGB


def _natural_key(path: Path) -> list[object]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path.name)]


def _rotate(image: np.ndarray, degrees: int) -> np.ndarray:
    quarter_turns = round(degrees / 90) % 4
    return np.ascontiguousarray(np.rot90(image, k=quarter_turns)) if quarter_turns else image


def _check_range(start: int, stop: int | None, stride: int) -> None:
    if start < 0 or stride < 1 or (stop is not None and stop < start):
        raise ValueError(f"invalid frame range start={start} stop={stop} stride={stride}")


@dataclass
class Footage:
    """An opened clip or image folder. Iterate with ``frames()``; read problems land in ``warnings``."""

    info: FootageInfo
    _images: list[Path] | None = None  # set for image folders
    warnings: list[str] = field(default_factory=list)

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        log.warning("%s", message)

    def frames(self, start: int = 0, stop: int | None = None, stride: int = 1) -> Iterator[Frame]:
        """Frames start, start + stride, ... before stop (indices in the footage's own numbering)."""
        _check_range(start, stop, stride)
        wanted = lambda i: i >= start and (i - start) % stride == 0  # noqa: E731
        if self._images is not None:
            yield from self._sequence_frames(start, stop, wanted)
        else:
            yield from self._video_frames(stop, wanted)

    def _sequence_frames(self, start: int, stop: int | None, wanted) -> Iterator[Frame]:
        images = self._images or []
        for index in range(start, len(images) if stop is None else min(stop, len(images))):
            if not wanted(index):
                continue
            bgr = cv2.imread(str(images[index]), cv2.IMREAD_COLOR)
            if bgr is None:
                self._warn(f"{images[index]}: unreadable image, frame {index} skipped")
                continue
            yield Frame(index, float(index / self.info.fps), cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))

    def _video_frames(self, stop: int | None, wanted) -> Iterator[Frame]:
        index = -1
        try:
            with av.open(self.info.path) as container:
                stream = container.streams.video[0]
                stream.thread_type = "AUTO"
                for index, frame in enumerate(container.decode(stream)):
                    if stop is not None and index >= stop:
                        return
                    if wanted(index):
                        time = float(frame.time) if frame.time is not None else index / float(self.info.fps)
                        image = _rotate(frame.to_ndarray(format="rgb24"), self.info.rotation)
                        yield Frame(index, time, image)
        except av.FFmpegError as exc:
            if index < 0:
                raise FootageError(f"{self.info.path}: no frame could be decoded ({exc})") from exc
            self._warn(f"{self.info.path}: decoding stopped after frame {index} ({exc}); the file may be truncated")
            return
        if index < 0:
            raise FootageError(f"{self.info.path}: the video holds no frames")
        if index + 1 < self.info.frame_count:
            self._warn(
                f"{self.info.path}: only {index + 1} of {self.info.frame_count} frames decoded; "
                "the file may be truncated"
            )


def _count_packets(path: Path) -> int:
    """Frames of a stream that declares no count, from its packets (demuxed, not decoded); at least 1.

    One packet holds one frame once FFmpeg's parser has split a raw stream; packets that fail to demux
    end the count, and a mismatch with what decodes is reported as a truncation warning later.
    """
    count = 0
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            for packet in container.demux(stream):
                count += 1 if packet.size else 0
    except av.FFmpegError as exc:
        log.warning("%s: frames counted up to a read error (%s)", path, exc)
    return max(count, 1)  # the first frame did decode


def _open_video(path: Path) -> Footage:
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise FootageError(f"{path}: no video stream (is it an audio file?)")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            if not rate:
                raise FootageError(f"{path}: the video stream has no frame rate")
            first = next(container.decode(stream), None)
            if first is None:
                raise FootageError(f"{path}: the video holds no frames")
            rotation = int(first.rotation or 0)
            frame_count = stream.frames or (
                round(float(stream.duration * stream.time_base * rate)) if stream.duration else 0
            )
            width, height = first.width, first.height
        if frame_count <= 0:
            frame_count = _count_packets(path)
    except av.FFmpegError as exc:
        raise FootageError(f"{path}: cannot be read as video ({exc})") from exc
    if round(rotation / 90) % 2:
        width, height = height, width
    info = FootageInfo(
        path=str(path), width=width, height=height, fps=Fraction(rate), frame_count=int(frame_count), rotation=rotation
    )
    return Footage(info)


def _open_folder(path: Path, fps: Fraction) -> Footage:
    images = sorted((p for p in path.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES), key=_natural_key)
    if not images:
        raise FootageError(f"{path}: folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
    first = cv2.imread(str(images[0]), cv2.IMREAD_COLOR)
    if first is None:
        raise FootageError(f"{images[0]}: first image of the sequence cannot be read")
    height, width = first.shape[:2]
    return Footage(
        FootageInfo(path=str(path), width=width, height=height, fps=fps, frame_count=len(images)), _images=images
    )


def open_footage(path: str | Path, *, sequence_fps: float | Fraction = DEFAULT_SEQUENCE_FPS) -> Footage:
    """Open a video file or a folder of images; raises FootageError if there is nothing readable."""
    source = Path(path).expanduser()
    if not source.exists():
        raise FootageError(f"{source}: no such file or folder")
    if source.is_dir():
        return _open_folder(source, Fraction(sequence_fps).limit_denominator(1001))
    if source.stat().st_size == 0:
        raise FootageError(f"{source}: the file is empty")
    return _open_video(source)
