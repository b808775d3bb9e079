"""Decoding BlazePose's landmark outputs back to image pixels, and the converted model on a real person."""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from inference_server.poses2d.blazepose import BLAZEPOSE_TO_COCO
from inference_server.poses2d.blazepose_landmarks import (
    BlazePoseLandmarks,
    CropTransform,
    LandmarkSettings,
    _output_indices,
    decode,
    sigmoid,
)
from inference_server.poses2d.boxes import box_iou
from tests.conftest import FETCHED_MODELS, REPO

# the converted model: where the catalogue would put it, or wherever this variable says
MODEL = Path(os.environ.get("CROWDMOCAP_BLAZEPOSE_LANDMARKS", FETCHED_MODELS / "blazepose-full/blazepose-full.onnx"))


def raw_rows(**rows):
    """A (195,) ``ld_3d`` row: every landmark at the crop centre, visible, except those given."""
    raw = np.tile(np.array([128.0, 128.0, 0.0, 10.0, 10.0]), (39, 1))
    for index, values in rows.items():
        raw[int(index.removeprefix("i"))] = values
    return raw.reshape(-1)


def test_the_crop_is_the_square_around_the_box_with_its_margin():
    transform = CropTransform.around(np.array([100.0, 50.0, 140.0, 250.0]), margin=0.1, size=256)
    np.testing.assert_allclose(transform.centre, [120, 150])
    assert transform.scale == pytest.approx(256 / 220)
    np.testing.assert_allclose(transform.to_image([[128, 128], [0, 0], [256, 256]]), [[120, 150], [10, 40], [230, 260]])
    point = np.array([131.0, 77.0])
    np.testing.assert_allclose(transform.to_image(transform.affine[:, :2] @ point + transform.affine[:, 2]), point)


def test_the_crop_samples_the_box():
    image = np.zeros((300, 300, 3), np.uint8)
    image[140:160, 110:130] = 255  # a bright square at the box centre
    crop = CropTransform.around(np.array([100.0, 100.0, 140.0, 200.0]), margin=0.1, size=256).crop(image)
    assert crop.shape == (256, 256, 3)
    assert crop[128, 128].tolist() == [255, 255, 255] and crop[10, 10].tolist() == [0, 0, 0]


def test_a_landmark_in_crop_pixels_maps_back_to_its_image_pixel():
    transform = CropTransform.around(np.array([200.0, 100.0, 260.0, 300.0]), margin=0.1, size=256)  # side 220
    found = decode(raw_rows(i11=[64.0, 192.0, 32.0, 0.0, 3.0]), 0.9, None, transform)
    scale = 256 / 220
    np.testing.assert_allclose(found.points[11, :2], [230 + (64 - 128) / scale, 200 + (192 - 128) / scale])
    assert found.points[11, 2] == pytest.approx(32 / scale)  # z keeps the image-pixel scale of x and y
    assert found.points.shape == (33, 4) and found.presence == pytest.approx(0.9) and found.world is None


def test_visibility_logits_go_through_a_sigmoid_and_world_landmarks_are_reshaped():
    world = np.arange(117, dtype=np.float32)
    found = decode(raw_rows(i0=[0, 0, 0, 0.0, 0], i1=[0, 0, 0, np.log(3), 0], i2=[0, 0, 0, -800.0, 0]), 0.5, world,
                   CropTransform.around(np.array([0.0, 0.0, 10.0, 10.0]), 0.0, 256))  # fmt: skip
    np.testing.assert_allclose(found.points[:3, 3], [0.5, 0.75, 0.0], atol=1e-12)
    np.testing.assert_array_equal(found.world, np.arange(99).reshape(33, 3))


def test_sigmoid_is_stable_at_both_ends():
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # underflow to 0 is the answer
        np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_outputs_are_found_by_shape_and_other_models_refused():
    shapes = [["n", 64, 64, 39], ["n", 256, 256, 1], ["n", 195], ["n", 1], ["n", 117]]
    assert _output_indices(shapes) == (2, 3, 4)
    assert _output_indices([["n", 1], ["n", 195]]) == (1, 0, None)
    with pytest.raises(ValueError, match="not a BlazePose landmark model"):
        _output_indices([["n", 2704, 80]])


def _decoder() -> BlazePoseLandmarks:
    """The decoding half alone: ``person`` needs only the settings."""
    decoder = BlazePoseLandmarks.__new__(BlazePoseLandmarks)
    decoder.settings = LandmarkSettings()
    return decoder


def test_a_person_needs_presence_and_visibility_and_gets_a_keypoint_box():
    transform = CropTransform.around(np.array([0.0, 0.0, 256.0, 256.0]), 0.0, 256)  # crop pixels = image pixels
    box = np.array([0.0, 0.0, 256.0, 256.0])
    found = decode(raw_rows(i0=[100, 20, 0, 5, 5], i27=[90, 240, 0, 5, 5], i28=[150, 230, 0, -5, 5]), 0.8, None,
                   transform)  # fmt: skip
    person = _decoder().person(found, box)
    assert person is not None
    assert person.keypoints.shape == (17, 3)
    np.testing.assert_allclose(person.keypoints[0], [100, 20, sigmoid(5)])
    # the box of all visible landmarks (the others sit at the centre, 128): the invisible ankle is left out
    np.testing.assert_allclose(person.box, [90, 20, 128, 240])
    found = decode(raw_rows(i0=[100, 20, 0, 5, 5], i31=[60, 250, 0, 5, 5]), 0.8, None, transform)
    np.testing.assert_allclose(_decoder().person(found, box).box, [60, 20, 128, 250])  # a toe reaches the feet
    assert _decoder().person(decode(raw_rows(), 0.3, None, transform), box) is None  # the flag says no body
    assert _decoder().person(decode(raw_rows(), 0.99, None, transform), box) is not None
    faint = raw_rows(**{f"i{i}": [128, 128, 0, -5, 5] for i in BLAZEPOSE_TO_COCO})
    assert _decoder().person(decode(faint, 0.99, None, transform), box) is None


@pytest.mark.skipif(not MODEL.is_file(), reason=f"no converted BlazePose landmark model at {MODEL}")
def test_the_converted_model_finds_an_annotated_person():
    import json

    truth = json.loads((REPO / "tests/data/ground_truth/vtest_25s_to_50s.json").read_text())
    frame = truth["frames"][0]
    capture = cv2.VideoCapture(str(REPO / "tests/data" / truth["clip"]))
    for _ in range(frame["index"] + 1):
        ok, bgr = capture.read()
        assert ok
    person = max((p for p in frame["people"] if not p["hard"]), key=lambda p: p["box"][3] - p["box"][1])
    gt = np.array(person["box"], np.float64)
    centre, size = (gt[:2] + gt[2:]) / 2, (gt[2:] - gt[:2]) * 1.3  # framed as BlazePoseTopDown.propose frames
    with_margin = np.concatenate([centre - size / 2, centre + size / 2])
    model = BlazePoseLandmarks(MODEL)
    found, again = model.landmarks(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), np.stack([with_margin, with_margin]))
    pose = model.person(found, with_margin)
    assert found.presence > 0.5 and pose is not None
    assert box_iou(pose.box[None], gt[None])[0, 0] > 0.5
    assert found.world is not None and np.abs(found.world).max() < 2.0  # metres about the hips
    np.testing.assert_allclose(again.points, found.points, atol=1e-3)  # a batch of two gives the same twice
