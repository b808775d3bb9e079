"""3DCrowdNet's per-detection answers reach the track that took each detection, joined by detection index.

A fake predictor stamps every answer with its request number, so each frame of each person can be traced
back to the detection it came from; two people with identical keypoints in one frame must keep their own.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from crowdmocap_addon.core.body.smpl_file import load_smpl_model
from crowdmocap_addon.core.result.schema import PinholeCamera
from inference_server.estimators.crowdnet.batcher import CrowdNetBatcher
from inference_server.estimators.crowdnet.people import crowdnet_people
from inference_server.footage.reader import Frame
from inference_server.pipeline.progress import CancelToken, StageMeter
from inference_server.pipeline.stream import pose_and_track
from inference_server.poses2d.boxes import box_from_keypoints
from inference_server.poses2d.types import FramePoses, PersonPose
from inference_server.tracking.tracker import Tracker, TrackerSettings
from tests.helpers.synthetic_smpl import write_npz
from tests.inference_server.tracking.test_tracker import TEMPLATE

FRAMES = 8
TWINS_AT = 3  # the detector gives both people the very same keypoints in this frame


def _person(x: float) -> PersonPose:
    keypoints = np.concatenate([TEMPLATE + [x, 300.0], np.full((17, 1), 0.9)], axis=1)
    return PersonPose(keypoints, box_from_keypoints(keypoints), 0.9)


class _Footage:
    def frames(self, start: int, stop: int | None, stride: int):
        for index in range(start, FRAMES if stop is None else stop, stride):
            yield Frame(index, index / 30, np.zeros((8, 8, 3), np.uint8))


class _Backend:
    """Two people side by side, given in a shuffled order; identical in frame ``TWINS_AT``."""

    name = "fake"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(1)

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        xs = [110.0, 110.0] if index == TWINS_AT else [100.0, 120.0]
        return FramePoses(index, time, [_person(xs[i]) for i in self.rng.permutation(2)])


class _StampingPredictor:
    """Answers request n with pelvis (n, 0, 5), in the order the batcher sent its requests."""

    rois, batch_size = 1, 3  # flushes in the middle of the clip, so answers arrive in several batches

    def __init__(self) -> None:
        self.sent = 0

    def predict(self, images, requests, camera):
        answers = []
        for _ in requests:
            joints = np.zeros((24, 3))
            joints[0] = [self.sent, 0.0, 5.0]
            answers.append(SimpleNamespace(global_orient=np.zeros(3), body_pose=np.zeros((23, 3)),
                                           betas=np.zeros(10), joints=joints))  # fmt: skip
            self.sent += 1
        return answers


def test_people_with_identical_keypoints_keep_their_own_estimates(tmp_path):
    tracker, cancel = Tracker(TrackerSettings(min_length=5)), CancelToken()
    batcher = CrowdNetBatcher(_StampingPredictor(), PinholeCamera(500.0, (4.0, 4.0)), StageMeter("e", 0, "f", None))
    pose_and_track(_Footage(), (0, None, 1), backend=_Backend(), tracker=tracker,
                   meter=StageMeter("p", 0, "f", None), cancel=cancel, batcher=batcher)  # fmt: skip
    tracks = tracker.finish()
    request = {(frame, detection): frame * 2 + detection for frame in range(FRAMES) for detection in range(2)}
    smpl = load_smpl_model(write_npz(tmp_path / "smpl.npz"))
    people, warnings = crowdnet_people(tracks, batcher.estimates, smpl, StageMeter("m", 0, "p", None), cancel)
    assert len(people) == 2 and not warnings
    for person in people:
        track = person.track
        assert track.observed.all()
        pelvis = person.transl + person.rest_joints[0]
        expected = [request[int(f), int(d)] for f, d in zip(track.frames, track.detections, strict=True)]
        np.testing.assert_allclose(pelvis[:, 0], expected, atol=1e-9)
    twins = {int(p.track.detections[TWINS_AT]) for p in people}
    assert twins == {0, 1}  # one detection each, and (above) each its own answer
