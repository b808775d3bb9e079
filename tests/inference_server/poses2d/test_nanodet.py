"""NanoDet-g on hand-made arrays: pre-processing, cells, distance distributions, scaling, thresholds, NMS,
padding to 4:3, windows and tiles."""

import itertools

import numpy as np
import pytest

from inference_server.poses2d import nanodet
from inference_server.poses2d.onnx_models import OnnxModelError

CELLS = sum((416 // s) ** 2 for s in nanodet.STRIDES)  # 2704 + 676 + 169


def one_hot_distributions(distances_in_bins: list[float]) -> np.ndarray:
    """(44,) logits whose softmax puts (almost) all weight on each side's integer bin."""
    logits = np.full((4, nanodet.BINS), -50.0)
    for side, bin_index in enumerate(distances_in_bins):
        logits[side, int(bin_index)] = 50.0
    return logits.ravel()


def empty_outputs() -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((CELLS, 80), np.float32), np.zeros((CELLS, 44), np.float32)


def test_cell_centres_follow_each_stride_row_major():
    centres, strides = nanodet.cell_centres()
    assert len(centres) == CELLS == 3549
    np.testing.assert_array_equal(centres[0], [4, 4])
    np.testing.assert_array_equal(centres[1], [12, 4])  # next column
    np.testing.assert_array_equal(centres[52], [4, 12])  # next row
    np.testing.assert_array_equal(centres[2704], [8, 8])  # first stride-16 cell
    np.testing.assert_array_equal(centres[-1], [400, 400])  # last stride-32 cell: (12 + 0.5) * 32
    assert strides[2703] == 8 and strides[2704] == 16 and strides[-1] == 32


def test_side_distances_are_softmax_expectations():
    uniform = np.zeros((1, 44))
    np.testing.assert_allclose(nanodet.side_distances(uniform), [[5, 5, 5, 5]])  # mean of 0..10
    np.testing.assert_allclose(nanodet.side_distances(one_hot_distributions([1, 2, 3, 10])[None]), [[1, 2, 3, 10]])
    two = np.full((4, 11), -50.0)
    two[:, 2] = two[:, 4] = 0.0  # equal weight on bins 2 and 4
    np.testing.assert_allclose(nanodet.side_distances(two.ravel()[None]), [[3, 3, 3, 3]])


def test_decode_scales_to_the_frame_keeps_people_only_and_suppresses_duplicates():
    scores, distributions = empty_outputs()
    person_cell = 2704 + 26 * 10 + 5  # stride 16, row 10, column 5: centre (88, 168)
    scores[person_cell, 0], distributions[person_cell] = 0.9, one_hot_distributions([1, 2, 3, 4])
    scores[person_cell + 1, 0], distributions[person_cell + 1] = 0.8, one_hot_distributions([2, 2, 2, 4])  # same box
    scores[100, 2] = 0.99  # a confident car: not a person
    scores[200, 0] = 0.3  # a person below the threshold
    boxes, found = nanodet.decode(scores, distributions, (0.5, 2.0), (832, 208), score_threshold=0.35)
    np.testing.assert_allclose(found, [0.9], rtol=1e-6)
    # model pixels (88 - 16, 168 - 32, 88 + 48, 168 + 64); frame = 208 wide (x 0.5), 832 tall (y 2)
    np.testing.assert_allclose(boxes, [[36, 272, 68, 464]], atol=1e-6)


def test_decode_clips_to_the_frame_and_refuses_a_wrong_grid():
    scores, distributions = empty_outputs()
    scores[0, 0], distributions[0] = 0.5, one_hot_distributions([10, 10, 10, 10])  # centre (4, 4), 80 px sides
    boxes, _ = nanodet.decode(scores, distributions, (1.0, 1.0), (416, 416), score_threshold=0.4)
    np.testing.assert_allclose(boxes, [[0, 0, 84, 84]])
    padding = 2704 + 26 * 20 + 5  # centre (88, 328), 16 px each way: below a 200-row frame's letterbox
    scores[padding, 0], distributions[padding] = 0.6, one_hot_distributions([1, 1, 1, 1])
    boxes, _ = nanodet.decode(scores, distributions, (1.0, 1.0), (200, 416), score_threshold=0.4)
    np.testing.assert_allclose(boxes, [[0, 0, 84, 84]])  # clipped to nothing, so dropped
    with pytest.raises(OnnxModelError, match="3549"):
        nanodet.decode(scores[:100], distributions[:100], (1.0, 1.0), (416, 416), score_threshold=0.4)


def test_both_recipes_give_bgr_normalised_nchw():
    image = np.zeros((20, 30, 3), np.uint8)
    image[..., 0] = 255  # pure red in RGB
    expected = [-103.53 / 57.375, -116.28 / 57.12, (255 - 123.675) / 58.395]  # B 0, G 0, R 255
    for recipe in (nanodet.stretched, nanodet.padded):
        blob, _ = recipe(image)
        assert blob.shape == (1, 3, 416, 416) and blob.dtype == np.float32
        np.testing.assert_allclose(blob[0, :, 0, 0], expected, rtol=1e-6)


def test_frames_are_padded_out_to_four_three_before_the_stretch():
    grey = (200 - nanodet.MEAN_BGR) / nanodet.STD_BGR
    black = -nanodet.MEAN_BGR / nanodet.STD_BGR
    four_three = np.full((300, 400, 3), 200, np.uint8)
    np.testing.assert_array_equal(nanodet.padded(four_three)[0], nanodet.stretched(four_three)[0])  # as it was
    square = np.full((300, 300, 3), 200, np.uint8)  # between 3:4 and 4:3: stretched as it is
    np.testing.assert_array_equal(nanodet.padded(square)[0], nanodet.stretched(square)[0])
    blob, to_frame = nanodet.padded(np.full((225, 400, 3), 200, np.uint8))  # 16:9 -> 400 x 300, black below
    assert to_frame == (400 / 416, 300 / 416)
    np.testing.assert_allclose(blob[0, :, 310, 415], grey, rtol=1e-6)  # 225 of 300 rows: 312 model rows
    np.testing.assert_allclose(blob[0, :, 313, 0], black, rtol=1e-6)
    tall, to_frame = nanodet.padded(np.full((400, 200, 3), 200, np.uint8))  # 1:2 -> 300 x 400, black right
    assert to_frame == (300 / 416, 400 / 416)
    np.testing.assert_allclose(tall[0, :, 415, 275], grey, rtol=1e-6)  # 200 of 300 columns: 277 model columns
    np.testing.assert_allclose(tall[0, :, 0, 278], black, rtol=1e-6)


def test_frames_beyond_two_to_one_are_seen_in_four_three_windows():
    assert nanodet.shape_windows(576, 1024) == [(0, 576, 0, 1024)]  # 16:9: one look
    assert nanodet.shape_windows(1000, 500) == [(0, 1000, 0, 500)]  # exactly 2:1
    wide = nanodet.shape_windows(576, 1536)  # two 4:3 frames side by side
    assert all(w[:2] == (0, 576) and w[3] - w[2] == 768 for w in wide)
    assert wide[0][2] == 0 and wide[-1][3] == 1536 and len(wide) == 3
    assert min((a[3] - b[2]) / 768 for a, b in itertools.pairwise(wide)) >= 0.2
    assert nanodet.shape_windows(576, 1536, overlap=0.0) == [(0, 576, 0, 768), (0, 576, 768, 1536)]
    tall = nanodet.shape_windows(1200, 300)
    assert all(w[2:] == (0, 300) and w[1] - w[0] == 400 for w in tall) and tall[-1][1] == 1200


def test_tile_windows_cover_the_frame_with_the_overlap():
    windows = nanodet.tile_windows(576, 768, grid=2, overlap=0.2)
    assert len(windows) == 4
    (y0, _, x0, x1), last = windows[0], windows[-1]
    assert (y0, x0) == (0, 0) and last[1] == 576 and last[3] == 768
    width = x1 - x0
    assert windows[1][2] == 768 - width and abs((x1 - windows[1][2]) / width - 0.2) < 0.01


def test_output_heads_are_found_by_shape_in_any_order():
    shapes = [[1, 169, 44], [1, 2704, 80], [1, 676, 44], [1, 169, 80], [1, 2704, 44], [1, 676, 80]]
    heads = nanodet._heads(shapes, "model.onnx")
    assert heads.scores == [1, 5, 3] and heads.distributions == [4, 2, 0]
    with pytest.raises(OnnxModelError, match=r"no single \(1, 2704, 44\) output for stride 8"):
        nanodet._heads(shapes[:3], "model.onnx")


class _FakeSession:
    """Stands in for onnxruntime: a person in the middle of whatever it is shown."""

    class _Io:
        name = "input_1:0"

    def get_inputs(self):
        return [self._Io()]

    def run(self, _, feeds):
        scores, distributions = empty_outputs()
        middle = 2704 + 26 * 13 + 13  # stride 16 cell centred at (216, 216)
        scores[middle, 0], distributions[middle] = 0.9, one_hot_distributions([2, 4, 2, 4])
        spans = list(itertools.pairwise(np.cumsum([0, 2704, 676, 169])))
        return [scores[None, a:b] for a, b in spans] + [distributions[None, a:b] for a, b in spans]


def fake_detector(tiles: int) -> nanodet.NanoDetDetector:
    detector = nanodet.NanoDetDetector.__new__(nanodet.NanoDetDetector)
    detector.session, detector.heads = _FakeSession(), nanodet._Heads([0, 1, 2], [3, 4, 5])
    detector.score_threshold, detector.nms_iou, detector.tiles, detector.tile_overlap = 0.4, 0.6, tiles, 0.2
    return detector


def centre_of(box) -> np.ndarray:
    return np.array([(box[0] + box[2]) / 2, (box[1] + box[3]) / 2])


def test_tiling_maps_each_tiles_boxes_back_into_the_frame():
    detector = fake_detector(tiles=2)
    image = np.zeros((624, 832, 3), np.uint8)  # 4:3, so are its tiles (347 x 463)
    boxes, scores = detector(image)
    assert len(boxes) == 4 and np.allclose(scores, 0.9)  # one person per tile, none overlapping
    windows = nanodet.tile_windows(624, 832, grid=2, overlap=0.2)
    for (y0, y1, x0, x1), box in zip(windows, sorted(boxes.tolist(), key=lambda b: (b[1], b[0])), strict=True):
        np.testing.assert_allclose(centre_of(box), [x0 + (x1 - x0) * 216 / 416, y0 + (y1 - y0) * 216 / 416], atol=1e-6)
    detector.tiles = 1
    whole, _ = detector(np.zeros((416, 832, 3), np.uint8))  # 2:1, padded to 832 x 624
    # model pixels (216 - 32, 216 - 64, 216 + 32, 216 + 64), x 2 across and x 1.5 down
    np.testing.assert_allclose(whole, [[368, 228, 496, 416]], atol=1e-6)  # 420 clipped to the frame


def test_a_very_wide_frame_is_seen_in_four_three_windows():
    detector = fake_detector(tiles=1)
    windows = detector.windows(312, 1248)  # 4:1
    assert len(windows) == 4 and all(w[1] - w[0] == 312 and w[3] - w[2] == 416 for w in windows)
    boxes, _ = detector(np.zeros((312, 1248, 3), np.uint8))
    assert len(boxes) == 4  # the fake finds a person in the middle of each window
    np.testing.assert_allclose(sorted(centre_of(b)[0] for b in boxes), [w[2] + 216 for w in windows], atol=1e-6)
    np.testing.assert_allclose(boxes[:, 2] - boxes[:, 0], 64)  # a 4:3 window of 416 x 312: x 1 across
    np.testing.assert_allclose(boxes[:, 3] - boxes[:, 1], 128 * 312 / 416)  # and x 0.75 down
