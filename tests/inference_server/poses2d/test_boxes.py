"""Box geometry on hand-computed cases: IoU, containment, conversions and greedy NMS."""

import numpy as np
import pytest

from inference_server.poses2d.boxes import (
    box_areas,
    box_containment,
    box_from_keypoints,
    box_iou,
    boxes_from_centres,
    boxes_from_xywh,
    non_max_suppression,
)

SQUARE = np.array([[0.0, 0.0, 10.0, 10.0]])


def test_iou_of_partly_overlapping_boxes_by_hand():
    # 10x10 and a 10x10 shifted by 5: overlap 50, union 150; 10x10 and 20x5 at (5, 5): overlap 25, union 175
    others = np.array([[5.0, 0.0, 15.0, 10.0], [5.0, 5.0, 25.0, 10.0]])
    np.testing.assert_allclose(box_iou(SQUARE, others), [[50 / 150, 25 / 175]])
    np.testing.assert_allclose(box_iou(others, SQUARE), [[50 / 150], [25 / 175]])  # symmetric


def test_iou_of_disjoint_touching_identical_and_contained_boxes():
    boxes = np.array([
        [20.0, 20.0, 30.0, 30.0],  # disjoint
        [10.0, 0.0, 20.0, 10.0],  # touching along an edge: no area in common
        [0.0, 0.0, 10.0, 10.0],  # identical
        [2.0, 2.0, 7.0, 7.0],  # inside: 25 / 100
    ])  # fmt: skip
    np.testing.assert_allclose(box_iou(SQUARE, boxes), [[0.0, 0.0, 1.0, 0.25]])
    np.testing.assert_allclose(box_containment(SQUARE, boxes), [[0.0, 0.0, 1.0, 1.0]])


def test_empty_and_degenerate_boxes_give_zero_not_nan():
    point = np.array([[5.0, 5.0, 5.0, 5.0]])
    assert box_iou(point, point)[0, 0] == 0.0
    assert box_iou(SQUARE, np.zeros((0, 4))).shape == (1, 0)
    assert box_iou(np.zeros((0, 4)), SQUARE).shape == (0, 1)
    np.testing.assert_allclose(box_areas(np.array([[0.0, 0.0, 4.0, 5.0], [3.0, 3.0, 1.0, 9.0]])), [20.0, 0.0])


def test_conversions():
    np.testing.assert_allclose(boxes_from_xywh(np.array([[10, 20, 30, 40]])), [[10, 20, 40, 60]])
    np.testing.assert_allclose(boxes_from_centres(np.array([[28.0, 20.0]]), np.array([[16.0, 32.0]])),
                               [[20, 4, 36, 36]])  # fmt: skip
    keypoints = np.array([[1.0, 8.0, 0.9], [4.0, 2.0, 0.9], [100.0, 100.0, 0.05]])  # the last is not confident
    np.testing.assert_allclose(box_from_keypoints(keypoints), [1, 2, 4, 8])
    assert box_from_keypoints(keypoints, min_confidence=0.95) is None


def test_nms_keeps_the_best_of_overlapping_boxes_and_every_separate_one():
    boxes = np.array([[1, 1, 11, 11], [0, 0, 10, 10], [50, 0, 60, 10], [100, 0, 110, 10]], dtype=float)
    scores = np.array([0.8, 0.9, 0.3, 0.6])
    assert non_max_suppression(boxes, scores, iou=0.5) == [1, 3, 2]  # best first; box 0 overlaps box 1 by 0.68
    assert non_max_suppression(boxes, scores, iou=0.7) == [1, 0, 3, 2]  # 0.68 is under this threshold


def test_nms_containment_also_drops_boxes_inside_a_kept_one():
    boxes = np.array([[0, 0, 10, 20], [2, 2, 8, 12], [50, 0, 60, 20]], dtype=float)  # box 1: IoU 0.3, inside
    scores = np.array([0.9, 0.7, 0.6])
    assert non_max_suppression(boxes, scores, iou=0.4) == [0, 1, 2]
    assert non_max_suppression(boxes, scores, iou=0.4, max_containment=0.7) == [0, 2]


@pytest.mark.parametrize("boxes", [np.zeros((0, 4)), np.zeros(0)])
def test_nms_of_nothing_keeps_nothing(boxes):
    assert non_max_suppression(boxes, np.zeros(0), iou=0.5) == []
