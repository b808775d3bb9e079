"""The result file contract: the server's writer and the add-on's reader agree, and bad files are refused."""

import json

import numpy as np
import pytest

from crowdmocap_addon.core.result.reader import read_result
from crowdmocap_addon.core.result.schema import (
    CAMERA_FIELDS,
    FORMAT_NAME,
    OPTIONAL_PERSON_FIELDS,
    PERSON_FIELDS,
    QUALITY_FILLED,
    QUALITY_OBSERVED,
    QUALITY_REPAIRED,
    ResultFormatError,
    person_key,
)
from crowdmocap_addon.core.result.writer import write_result
from tests.helpers.captures import make_capture, rewrite_result, turning_camera


def test_round_trip_keeps_every_value(tmp_path, capture):
    path = write_result(tmp_path / "out" / "take1.npz", capture)
    back = read_result(path)
    assert back.video == capture.video
    assert back.camera == capture.camera
    assert back.body_model == capture.body_model
    assert back.pipeline == capture.pipeline
    np.testing.assert_allclose(back.ground.normal, capture.ground.normal)
    assert [t.id for t in back.people] == [t.id for t in capture.people]
    for original, read in zip(capture.people, back.people, strict=False):
        np.testing.assert_array_equal(read.frames, original.frames)
        for name in PERSON_FIELDS:
            # float32 storage: exact to float32 precision
            np.testing.assert_allclose(getattr(read, name), getattr(original, name), rtol=1e-6, atol=1e-6)


def test_file_layout_is_the_documented_one(tmp_path, capture):
    path = write_result(tmp_path / "r.npz", capture)
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        assert archive["meta"].shape == ()
        assert meta["format"] == FORMAT_NAME
        assert meta["version"] == "1.2"
        fields = (*PERSON_FIELDS, *OPTIONAL_PERSON_FIELDS)
        assert set(archive.files) == {"meta"} | {person_key(t.id, f) for t in capture.people for f in fields}
        assert archive["person/1/quality"].dtype == np.uint8
        assert archive["person/1/body_pose"].shape == (12, 23, 3)
        assert archive["person/1/betas"].shape == (10,)
    assert meta["people"][1] == {
        "id": 4,
        "first_frame": int(capture.people[1].frames[0]),
        "last_frame": int(capture.people[1].frames[-1]),
        "num_frames": 11,
    }
    assert meta["camera"] == {"model": "pinhole", "focal_px": 960.0, "principal_point": [384.0, 288.0]}


def test_per_frame_quality_round_trips_and_a_1_0_file_reads_without_it(tmp_path, capture):
    quality = np.full(capture.people[0].num_frames, QUALITY_OBSERVED, np.uint8)
    quality[[2, 3]], quality[5] = QUALITY_FILLED, QUALITY_REPAIRED
    capture.people[0].quality = quality
    path = write_result(tmp_path / "q.npz", capture)
    back = read_result(path)
    np.testing.assert_array_equal(back.people[0].quality, quality)
    derived = np.where(capture.people[1].confidence > 0, QUALITY_OBSERVED, QUALITY_FILLED)
    np.testing.assert_array_equal(back.people[1].quality, derived)  # written from the confidence when not set

    def as_1_0(arrays, meta):  # what a 1.0 writer wrote: no quality arrays
        meta["version"] = "1.0"
        for key in [k for k in arrays if k.endswith("/quality")]:
            del arrays[key]

    rewrite_result(path, as_1_0)
    old = read_result(path)
    assert old.version == (1, 0) and all(p.quality is None for p in old.people)
    confidence = old.people[0].confidence
    np.testing.assert_array_equal(old.people[0].frame_quality, np.where(confidence > 0, 0, 1))


@pytest.mark.parametrize(
    ("bad", "message"),
    [(np.full(12, 3, np.uint8), "codes must be 0"),
     (np.zeros(11, np.uint8), "declares shape \\(11,\\), expected \\(12,\\)"),
     (np.zeros(12, np.float32), "must be \\(12,\\) integers")],
)  # fmt: skip
def test_bad_quality_arrays_are_refused(tmp_path, capture, bad, message):
    path = write_result(tmp_path / "q.npz", capture)
    rewrite_result(path, lambda arrays, meta: arrays.__setitem__("person/1/quality", bad))
    with pytest.raises(ResultFormatError, match=message):
        read_result(path)


def test_a_moving_camera_round_trips_and_older_files_read_as_still(tmp_path, capture):
    assert read_result(write_result(tmp_path / "still.npz", capture)).camera_motion is None  # the compact case
    capture.camera_motion = turning_camera(capture)
    path = write_result(tmp_path / "moving.npz", capture)
    with np.load(path, allow_pickle=False) as archive:
        meta = json.loads(str(archive["meta"]))
        assert meta["camera"]["motion"] == {"num_frames": capture.camera_motion.num_frames}
        assert {k for k in archive.files if k.startswith("camera/")} == {f"camera/{n}" for n in CAMERA_FIELDS}
        assert archive["camera/measured"].dtype == np.uint8 and archive["camera/frames"].dtype == np.int64
    back = read_result(path).camera_motion
    for name in CAMERA_FIELDS:
        np.testing.assert_allclose(getattr(back, name), getattr(capture.camera_motion, name), rtol=1e-6, atol=1e-6)

    def as_1_1(arrays, meta):  # a 1.1 writer knew no per-frame camera
        meta["version"] = "1.1"
        del meta["camera"]["motion"]
        for key in [k for k in arrays if k.startswith("camera/")]:
            del arrays[key]

    rewrite_result(path, as_1_1)
    assert read_result(path).camera_motion is None


@pytest.mark.parametrize(
    ("mutate", "message"),
    [(lambda a, m: a.pop("camera/focal_px"), "'camera/focal_px' is missing"),
     (lambda a, m: a.__setitem__("camera/rotation", a["camera/rotation"][:-1]), "declares shape"),
     (lambda a, m: a.__setitem__("camera/measured", np.full_like(a["camera/measured"], 2)), "0 \\(bridged\\) or 1"),
     (lambda a, m: a.__setitem__("camera/focal_px", -a["camera/focal_px"]), "'focal_px' must be in"),
     (lambda a, m: a.__setitem__("camera/centre", np.full_like(a["camera/centre"], np.nan)), "finite floats"),
     (lambda a, m: a.__setitem__("camera/frames", a["camera/frames"] + 100), "frames without a camera")],
)  # fmt: skip
def test_a_damaged_camera_path_is_refused(tmp_path, capture, mutate, message):
    capture.camera_motion = turning_camera(capture)
    path = write_result(tmp_path / "moving.npz", capture)
    rewrite_result(path, mutate)
    with pytest.raises(ResultFormatError, match=message):
        read_result(path)


@pytest.mark.parametrize("measured", [np.full(1, 256), np.full(1, 0.7)])
def test_the_writer_refuses_measured_flags_that_are_not_0_or_1(tmp_path, capture, measured):
    capture.camera_motion = turning_camera(capture)
    flags = capture.camera_motion.measured.astype(measured.dtype)
    flags[0] = measured[0]
    capture.camera_motion.measured = flags
    with pytest.raises(ResultFormatError, match="'measured' must hold 0"):
        write_result(tmp_path / "bad.npz", capture)
    assert not (tmp_path / "bad.npz").exists()


def test_a_written_result_gets_the_mode_any_new_file_gets(tmp_path, capture):
    """Readable by the people a shared folder's files are readable by, not the writer alone (mkstemp's 0600)."""
    import os

    mask = os.umask(0o022)
    try:
        path = write_result(tmp_path / "shared.npz", capture)
    finally:
        os.umask(mask)
    assert path.stat().st_mode & 0o777 == 0o644


def test_capture_without_ground_or_people_round_trips(tmp_path):
    empty = make_capture(people=0, with_ground=False)
    back = read_result(write_result(tmp_path / "e.npz", empty))
    assert back.ground is None
    assert back.people == []


def test_writer_refuses_invalid_data_and_leaves_no_file(tmp_path, capture):
    capture.people[0].transl[3, 2] = np.nan
    target = tmp_path / "bad.npz"
    with pytest.raises(ResultFormatError, match="person 1: 'transl' holds NaN"):
        write_result(target, capture)
    assert list(tmp_path.iterdir()) == []


def test_writer_keeps_the_previous_file_when_a_write_fails(tmp_path, capture):
    target = write_result(tmp_path / "keep.npz", capture)
    before = target.read_bytes()
    capture.pipeline.options["not_json"] = object()
    with pytest.raises(ResultFormatError, match="meta cannot be written as JSON"):
        write_result(target, capture)
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.npz"]


def test_writer_refuses_out_of_float32_range_values(tmp_path, capture):
    capture.people[2].transl[0, 0] = 1e300
    with pytest.raises(ResultFormatError, match="'transl' holds NaN or infinite"):
        write_result(tmp_path / "x.npz", capture)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda a, m: m.update(format="something.else"), "meta.format is 'something.else'"),
        (lambda a, m: m.update(version="2.0"), "newer than this reader"),
        (lambda a, m: m.update(version="one"), "not of the form MAJOR.MINOR"),
        (lambda a, m: a.pop("person/4/betas"), "array 'person/4/betas' is missing"),
        (
            lambda a, m: a.update({"person/1/transl": a["person/1/transl"][:, :2]}),
            r"'person/1/transl' declares shape \(12, 2\), expected \(12, 3\)",
        ),
        (lambda a, m: a["person/7/body_pose"].__setitem__((0, 0, 0), np.nan), "'body_pose' holds NaN"),
        (lambda a, m: a.update({"person/1/frames": a["person/1/frames"][::-1].copy()}), "strictly increasing"),
        (lambda a, m: a.update({"person/1/frames": a["person/1/frames"].astype(np.float32)}), "must hold integers"),
        # meta and arrays disagree: caught from the arrays' headers, before anything is loaded
        (
            lambda a, m: m["people"][0].update(num_frames=99),
            r"'person/1/frames' declares shape \(12,\), expected \(99,\)",
        ),
        (lambda a, m: m["video"].pop("fps"), "meta.video.fps is missing"),
        (lambda a, m: m["video"].update(width="wide"), "meta.video.width must be an integer"),
        (lambda a, m: m["camera"].update(model="fisheye"), "not supported"),
        (lambda a, m: m["body_model"].update(kind="smplx"), "body_model.kind"),
        (lambda a, m: m["people"].pop(), "belongs to a person not listed"),
        (lambda a, m: m["ground"].update(normal=[0, 0, 2]), "unit 3-vector"),
        (lambda a, m: a.update({"person/1/confidence": a["person/1/confidence"] + 2}), r"lie in \[0, 1\]"),
    ],
)
def test_reader_names_what_is_wrong(tmp_path, capture, mutate, message):
    path = write_result(tmp_path / "r.npz", capture)
    rewrite_result(path, mutate)
    with pytest.raises(ResultFormatError, match=message) as err:
        read_result(path)
    assert str(path) in str(err.value)


def test_older_minor_and_newer_minor_versions_are_read(tmp_path, capture):
    path = write_result(tmp_path / "r.npz", capture)
    rewrite_result(path, lambda a, m: m.update(version="1.7", future_field={"x": 1}))
    assert read_result(path).version == (1, 7)


def test_meta_that_is_not_a_json_string_is_refused(tmp_path, capture):
    path = write_result(tmp_path / "r.npz", capture)
    with np.load(path) as archive:
        arrays = {key: archive[key] for key in archive.files}
    arrays["meta"] = np.array([1, 2, 3])
    np.savez(path, **arrays)
    with pytest.raises(ResultFormatError, match="0-d string array"):
        read_result(path)
    arrays["meta"] = np.array("{not json")
    np.savez(path, **arrays)
    with pytest.raises(ResultFormatError, match="not valid JSON"):
        read_result(path)


def test_pickled_object_arrays_are_never_loaded(tmp_path, capture):
    path = write_result(tmp_path / "r.npz", capture)
    rewrite_result(path, lambda a, m: a.update({"person/1/betas": np.array([object()] * 10, dtype=object)}))
    with pytest.raises(ResultFormatError, match="not a readable result archive"):
        read_result(path)


def test_missing_file_and_non_archive(tmp_path):
    with pytest.raises(ResultFormatError, match="no such result file"):
        read_result(tmp_path / "absent.npz")
    (tmp_path / "text.npz").write_text("hello")
    with pytest.raises(ResultFormatError, match="not a readable result archive"):
        read_result(tmp_path / "text.npz")
