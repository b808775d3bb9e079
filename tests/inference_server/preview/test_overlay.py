import numpy as np

from inference_server.preview.overlay import OverlayPerson, draw_overlay, track_colour


def _person(track_id, x=100.0, observed=True):
    keypoints = np.zeros((17, 3))
    keypoints[:, 0], keypoints[:, 1], keypoints[:, 2] = x, np.linspace(50, 200, 17), 0.9
    keypoints[9, 2] = 0.0  # an invisible wrist is not drawn
    keypoints[9, :2] = (300, 20)
    return OverlayPerson(keypoints, np.array([x - 30, 40, x + 30, 210]), track_id, observed)


def test_draws_boxes_skeletons_and_ids_without_touching_the_input():
    image = np.zeros((240, 320, 3), np.uint8)
    out = draw_overlay(image, [_person(3), _person(8, x=220)])
    assert image.max() == 0  # input untouched
    assert tuple(out[125, 100]) == track_colour(3)  # a keypoint dot in the person's colour
    assert tuple(out[125, 220]) == track_colour(8)
    assert out[15:26, 295:306].max() == 0  # nothing drawn at the invisible wrist, nor lines to it
    assert (out[40:50, 70:90] != 0).any()  # the id label above the box
    assert track_colour(3) != track_colour(8) and track_colour(3) == track_colour(3)


def test_interpolated_people_are_grey():
    out = draw_overlay(np.zeros((240, 320, 3), np.uint8), [_person(5, observed=False)])
    assert tuple(out[125, 100]) == (128, 128, 128)
