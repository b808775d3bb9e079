"""Read a CrowdMocap result file: the only place the add-on (and anything else) parses one.

Runs on Blender's bundled NumPy with no other packages and never unpickles. Whatever is wrong with a
file (not a zip, truncated, wrong format name, newer major version, missing or mis-shaped arrays,
NaNs, inconsistent meta) surfaces as ``ResultFormatError`` naming the file and the problem.
"""

from __future__ import annotations

import json
import re
import tokenize
import zipfile
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from .schema import (
    CAMERA_FIELDS,
    CAMERA_PREFIX,
    FORMAT_NAME,
    FORMAT_VERSION,
    MAX_FRAME_INDEX,
    META_KEY,
    OPTIONAL_PERSON_FIELDS,
    PERSON_FIELDS,
    PERSON_PREFIX,
    BodyModelInfo,
    CameraMotion,
    CapturedPerson,
    CaptureResult,
    GroundPlane,
    PinholeCamera,
    PipelineInfo,
    ResultFormatError,
    VideoInfo,
    expected_shape,
    person_key,
    validate_capture,
    validate_person,
)

MAX_META_BYTES = 64 * 2**20  # meta is a few kB per person: anything near this size is not a result
_PERSON_KEY = re.compile(rf"^{re.escape(PERSON_PREFIX)}(\d+)/([a-z0-9_]+)$")
# What NumPy and zipfile raise on damaged archives; anything else is a bug and must not be hidden.
# numpy parses the .npy header as Python literals: a damaged header fails in the tokenizer or the parser
_ARCHIVE_ERRORS = (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, UnicodeDecodeError,
                   NotImplementedError, OverflowError, MemoryError, tokenize.TokenError, SyntaxError)  # fmt: skip


class _Meta:
    """Typed access to the meta JSON with error messages that name the path of the bad entry."""

    def __init__(self, data: Any, where: str = "meta") -> None:
        if not isinstance(data, dict):
            raise ResultFormatError(f"{where} must be a JSON object")
        self.data, self.where = data, where

    def _get(self, key: str) -> Any:
        if key not in self.data:
            raise ResultFormatError(f"{self.where}.{key} is missing")
        return self.data[key]

    def obj(self, key: str) -> _Meta:
        return _Meta(self._get(key), f"{self.where}.{key}")

    def optional_obj(self, key: str) -> _Meta | None:
        return None if self.data.get(key) is None else self.obj(key)

    def text(self, key: str) -> str:
        value = self._get(key)
        if not isinstance(value, str):
            raise ResultFormatError(f"{self.where}.{key} must be a string")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            raise ResultFormatError(f"{self.where}.{key} must be an integer")
        return value

    def number(self, key: str) -> float:
        value = self._get(key)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ResultFormatError(f"{self.where}.{key} must be a number")
        return float(value)

    def numbers(self, key: str, count: int) -> tuple[float, ...]:
        value = self._get(key)
        if (
            not isinstance(value, list)
            or len(value) != count
            or any(isinstance(v, bool) or not isinstance(v, int | float) for v in value)
        ):
            raise ResultFormatError(f"{self.where}.{key} must be a list of {count} numbers")
        return tuple(float(v) for v in value)

    def mapping(self, key: str) -> dict[str, Any]:
        value = self.data.get(key, {})
        if not isinstance(value, dict):
            raise ResultFormatError(f"{self.where}.{key} must be a JSON object")
        return value


def _parse_version(meta: _Meta) -> tuple[int, int]:
    text = meta.text("version")
    match = re.fullmatch(r"(\d+)\.(\d+)", text)
    if not match:
        raise ResultFormatError(f"meta.version {text!r} is not of the form MAJOR.MINOR")
    major, minor = int(match.group(1)), int(match.group(2))
    if major > FORMAT_VERSION[0]:
        raise ResultFormatError(
            f"result format version {text} is newer than this reader ({FORMAT_VERSION[0]}.x): update CrowdMocap"
        )
    if major < 1:
        raise ResultFormatError(f"result format version {text} is not supported")
    return major, minor


def _parse_meta(raw: Any) -> tuple[_Meta, CaptureResult]:
    meta = _Meta(raw)
    if meta.data.get("format") != FORMAT_NAME:
        raise ResultFormatError(f"meta.format is {meta.data.get('format')!r}, expected {FORMAT_NAME!r}")
    version = _parse_version(meta)
    video = meta.obj("video")
    fps_rational = video.numbers("fps_rational", 2)
    if any(v != int(v) for v in fps_rational):
        raise ResultFormatError("meta.video.fps_rational must be two integers")
    camera = meta.obj("camera")
    if camera.text("model") != "pinhole":
        raise ResultFormatError(f"meta.camera.model {camera.text('model')!r} is not supported (expected 'pinhole')")
    body = meta.obj("body_model")
    names = body._get("joint_names")
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise ResultFormatError("meta.body_model.joint_names must be a list of strings")
    pipeline = meta.obj("pipeline")
    versions = pipeline.mapping("versions")
    ground = meta.optional_obj("ground")
    result = CaptureResult(
        video=VideoInfo(
            path=video.text("path"), width=video.integer("width"), height=video.integer("height"),
            fps=video.number("fps"), fps_rational=(int(fps_rational[0]), int(fps_rational[1])),
            frame_count=video.integer("frame_count"), first_frame=video.integer("first_frame"),
        ),
        camera=PinholeCamera(focal_px=camera.number("focal_px"),
                             principal_point=camera.numbers("principal_point", 2)),  # type: ignore[arg-type]
        body_model=BodyModelInfo(kind=body.text("kind"), gender=body.text("gender"), joint_names=tuple(names)),
        pipeline=PipelineInfo(pose_backend=pipeline.text("pose_backend"), estimator=pipeline.text("estimator"),
                              versions={str(k): str(v) for k, v in versions.items()},
                              options=pipeline.mapping("options")),
        ground=None if ground is None else GroundPlane(normal=ground.numbers("normal", 3),  # type: ignore[arg-type]
                                                       offset=ground.number("offset")),
        people=[],
        version=version,
    )  # fmt: skip
    return meta, result


def _listed_people(meta: _Meta) -> list[_Meta]:
    people = meta._get("people")
    if not isinstance(people, list):
        raise ResultFormatError("meta.people must be a list")
    return [_Meta(entry, f"meta.people[{i}]") for i, entry in enumerate(people)]


def _declared_shape(archive: Any, key: str) -> tuple[int, ...]:
    """An array's shape as its .npy header declares it, read without loading (or inflating) the data."""
    with archive.zip.open(f"{key}.npy") as stream:
        version = np.lib.format.read_magic(stream)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = header(stream)
    return tuple(int(n) for n in shape)


def _loaded(archive: Any, key: str, expected: tuple[int, ...], where: str) -> np.ndarray:
    """The array, once its declared shape is the expected one: a damaged or hostile header that declares a
    huge array is refused before anything is inflated (a 1 MB file may otherwise expand to gigabytes)."""
    declared = _declared_shape(archive, key)
    if declared != expected:
        raise ResultFormatError(f"{where}: '{key}' declares shape {declared}, expected {expected}")
    return archive[key]


def _read_camera_motion(archive: Any, meta: _Meta) -> CameraMotion | None:
    """The per-frame camera (format 1.2) when ``meta.camera.motion`` announces one; None for a still camera."""
    motion = meta.obj("camera").optional_obj("motion")
    if motion is None:
        return None
    count = motion.integer("num_frames")
    if not 0 < count <= MAX_FRAME_INDEX + 1:
        raise ResultFormatError(f"meta.camera.motion lists {count} frames (1..{MAX_FRAME_INDEX + 1} allowed)")
    arrays = {}
    for name, spec in CAMERA_FIELDS.items():
        key = f"{CAMERA_PREFIX}{name}"
        if key not in archive.files:
            raise ResultFormatError(f"camera: array '{key}' is missing")
        arrays[name] = _loaded(archive, key, expected_shape(spec, count), "camera")
    return CameraMotion(**arrays)


def _read_person(archive: Any, entry: _Meta) -> CapturedPerson:
    person_id = entry.integer("id")
    count = entry.integer("num_frames")
    if not 0 < count <= MAX_FRAME_INDEX + 1:
        raise ResultFormatError(f"person {person_id}: meta lists {count} frames (1..{MAX_FRAME_INDEX + 1} allowed)")
    arrays: dict[str, np.ndarray] = {}
    for name, spec in PERSON_FIELDS.items():
        key = person_key(person_id, name)
        if key not in archive.files:
            raise ResultFormatError(f"person {person_id}: array '{key}' is missing")
        arrays[name] = _loaded(archive, key, expected_shape(spec, count), f"person {person_id}")
    for name, spec in OPTIONAL_PERSON_FIELDS.items():  # added by a later minor version: absent from older files
        key = person_key(person_id, name)
        where = f"person {person_id}"
        arrays[name] = _loaded(archive, key, expected_shape(spec, count), where) if key in archive.files else None
    track = CapturedPerson(id=person_id, **arrays)
    validate_person(track)
    listed = (entry.integer("first_frame"), entry.integer("last_frame"), entry.integer("num_frames"))
    actual = (int(track.frames[0]), int(track.frames[-1]), track.num_frames)
    if listed != actual:
        raise ResultFormatError(
            f"person {person_id}: meta lists frames {listed[0]}..{listed[1]} ({listed[2]} frames) "
            f"but the arrays hold {actual[0]}..{actual[1]} ({actual[2]} frames)"
        )
    return track


def _check_no_strays(files: list[str], ids: set[int]) -> None:
    for key in files:
        if key == META_KEY:
            continue
        match = _PERSON_KEY.match(key)
        if not match:
            continue  # unknown top-level entries are allowed: a later minor version may add some
        if int(match.group(1)) not in ids:
            raise ResultFormatError(f"array '{key}' belongs to a person not listed in meta.people")


def _load(path: Path) -> CaptureResult:
    loaded = np.load(path, allow_pickle=False)
    if not isinstance(loaded, np.lib.npyio.NpzFile):  # a bare .npy array (an ndarray, no archive to close)
        raise ResultFormatError("not an .npz archive (a bare .npy array)")
    with loaded as archive:
        if META_KEY not in archive.files:
            raise ResultFormatError(f"no '{META_KEY}' entry: not a CrowdMocap result")
        if _declared_shape(archive, META_KEY) != ():
            raise ResultFormatError("'meta' must be a 0-d string array holding JSON")
        if archive.zip.getinfo(f"{META_KEY}.npy").file_size > MAX_META_BYTES:
            raise ResultFormatError(f"'meta' is larger than {MAX_META_BYTES // 2**20} MiB: not a CrowdMocap result")
        raw_meta = archive[META_KEY]
        if raw_meta.shape != () or raw_meta.dtype.kind != "U":
            raise ResultFormatError("'meta' must be a 0-d string array holding JSON")
        try:
            meta_json = json.loads(str(raw_meta))
        except json.JSONDecodeError as exc:
            raise ResultFormatError(f"'meta' is not valid JSON: {exc}") from exc
        except RecursionError as exc:  # json nests by recursion: thousands of brackets exhaust the stack
            raise ResultFormatError("'meta' is nested too deeply to be a CrowdMocap result") from exc
        meta, result = _parse_meta(meta_json)
        entries = _listed_people(meta)
        result.people = [_read_person(archive, entry) for entry in entries]
        result.camera_motion = _read_camera_motion(archive, meta)
        _check_no_strays(list(archive.files), {track.id for track in result.people})
    validate_capture(result)
    return result


def read_result(path: str | Path) -> CaptureResult:
    """Read and fully validate a result ``.npz``; raise ResultFormatError (naming the file) if it is bad."""
    source = Path(path)
    if not source.is_file():
        raise ResultFormatError(f"{source}: no such result file")
    try:
        return _load(source)
    except ResultFormatError as exc:
        raise ResultFormatError(f"{source}: {exc}") from exc
    except _ARCHIVE_ERRORS as exc:
        raise ResultFormatError(f"{source}: not a readable result archive ({type(exc).__name__}: {exc})") from exc
