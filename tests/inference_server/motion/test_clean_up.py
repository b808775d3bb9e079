"""The motion stage honours its options on a synthetic walker whose middle is a front/back flip.

The same mechanism the street clip shows (a walker coming out of an occlusion facing the camera), built
so the answer is known: with ``fix_facing`` the flipped stretch is turned back, without it it stays.
"""

from dataclasses import replace

import numpy as np
from scipy.spatial.transform import Rotation

from crowdmocap_addon.core.result.schema import PinholeCamera
from inference_server.motion.clean_up import MotionSettings, finish_people
from inference_server.pipeline.progress import CancelToken, StageMeter
from tests.inference_server.motion.test_facing import FPS, _person, _walker, with_flipped_stretch

CAMERA = PinholeCamera(focal_px=1000.0, principal_point=(640.0, 360.0))


def _flipped_walker():
    orient, pose, transl, _ = _walker()
    wrong, flipped = with_flipped_stretch(orient, pose, transl)
    return _person(*wrong, np.ones(len(orient))), flipped


def _facing_against_walk(person_track) -> np.ndarray:
    """(T,) frames where the body faces more than 90 degrees away from where the pelvis goes."""
    forward = Rotation.from_rotvec(person_track.global_orient).as_matrix()[:, :, 2]
    velocity = np.gradient(person_track.transl, axis=0)
    return np.sum(forward * velocity, axis=1) < 0


def _finish(person, **changes):
    settings = MotionSettings(fps=FPS, smoothing=0.0, foot_lock=False, ground_feet=False, fix_facing=True,
                              temporal_fit=False)  # fmt: skip
    settings = replace(settings, **changes)
    (done,), _ = finish_people([person], CAMERA, settings, StageMeter("motion", 1, "people", None), CancelToken())
    return done


def test_fix_facing_turns_the_flipped_stretch_back_and_off_leaves_it():
    person, flipped = _flipped_walker()
    assert _facing_against_walk(_finish(person, fix_facing=False))[flipped].all()  # kept as estimated
    fixed = _facing_against_walk(_finish(person, fix_facing=True))
    assert not fixed.any()


def test_the_fit_gets_the_captures_smoothness_and_top_speed(monkeypatch):
    from inference_server.motion.temporal_fit import people as fit_people_module

    given = {}

    def fit_captured(people, estimates, camera, ground, *, fps, settings, check):
        given["settings"] = settings
        return list(people), ground

    monkeypatch.setattr(fit_people_module, "fit_captured", fit_captured)
    person, _ = _flipped_walker()
    _finish(person, temporal_fit=True, fit_smoothness=2.5, fit_top_speed=7.0, device="cpu")
    assert (given["settings"].smoothness, given["settings"].max_root_speed) == (2.5, 7.0)
