"""Files built to hurt the reader or the Blender import: each is refused with ResultFormatError, cheaply.

Deep JSON, a bare .npy, an array header that declares gigabytes, unsigned frames that wrap, and values
no scene can hold (a 10^12-pixel frame, frame numbers near 2^62, translations of 3e38).
"""

from __future__ import annotations

import tracemalloc
import zipfile

import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.core.result.schema import ResultFormatError
from crowdmocap_addon.core.result.writer import write_result
from tests.helpers.captures import make_capture, rewrite_result


def test_deeply_nested_meta_is_refused(tmp_path):
    path = write_result(tmp_path / "r.npz", make_capture())
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    deep = "[" * 100_000 + "]" * 100_000  # valid JSON that json.loads can only parse by recursing 100,000 deep
    arrays["meta"] = np.array(str(arrays["meta"])[:-1] + f', "extra": {deep}}}')
    np.savez(path, **arrays)
    with pytest.raises(ResultFormatError, match="nested too deeply"):
        read_result(path)


def test_a_bare_npy_renamed_npz_is_refused(tmp_path):
    path = tmp_path / "array.npz"
    with path.open("wb") as stream:
        np.save(stream, np.arange(10))
    with pytest.raises(ResultFormatError, match=r"bare \.npy"):
        read_result(path)


def test_an_array_declaring_gigabytes_is_refused_before_it_is_inflated(tmp_path):
    path = write_result(tmp_path / "r.npz", make_capture())
    rows = 40_000_000  # 480 MB of float32 zeros, about 0.5 MB compressed
    header = {"descr": "<f4", "fortran_order": False, "shape": (rows, 3)}
    with zipfile.ZipFile(path) as archive:
        kept = {name: archive.read(name) for name in archive.namelist() if name != "person/1/transl.npy"}
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in kept.items():
            archive.writestr(name, data)
        with archive.open("person/1/transl.npy", "w", force_zip64=True) as stream:
            np.lib.format.write_array_header_1_0(stream, header)
            chunk = bytes(2**22)
            for _ in range(rows * 12 // len(chunk)):
                stream.write(chunk)
    assert path.stat().st_size < 5_000_000
    tracemalloc.start()
    try:
        with pytest.raises(ResultFormatError, match=r"'person/1/transl' declares shape \(40000000, 3\)"):
            read_result(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 50_000_000  # nothing near the declared 480 MB was allocated


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a, m: a.update({"person/1/frames": np.array([5, 3, *range(6, 16)], np.uint64)}),
         "strictly increasing"),
        (lambda a, m: m["video"].update(width=10**12), "must be 1..65536 pixels a side"),
        (lambda a, m: (a.update({"person/1/frames": np.arange(2**62, 2**62 + 12, dtype=np.int64)}),
                       m["people"][0].update(first_frame=2**62, last_frame=2**62 + 11)),
         r"must lie in 0..1048573"),
        (lambda a, m: a["person/1/transl"].__setitem__((0, 0), 3e38), r"'transl' holds values beyond ±10000"),
        (lambda a, m: m["camera"].update(focal_px=1e300), "camera.focal_px must be in"),
        (lambda a, m: m["ground"].update(offset=1e30), "ground.offset must lie within"),
        (lambda a, m: m["video"].update(fps=1e9, fps_rational=[10**9, 1]), "video.fps must be in"),
    ],
)  # fmt: skip
def test_values_no_scene_can_hold_are_refused(tmp_path, mutate, message):
    path = write_result(tmp_path / "r.npz", make_capture())
    rewrite_result(path, mutate)
    with pytest.raises(ResultFormatError, match=message):
        read_result(path)
