"""The plausibility report on motions whose faults are known: a person standing on a floor, then broken."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from crowdmocap_addon.core.body.skeleton import forward_kinematics
from crowdmocap_addon.core.joints import SMPL_FEET, SMPL_TO_COCO
from crowdmocap_addon.core.plausibility import assess, format_report
from crowdmocap_addon.core.result.schema import CapturedPerson, GroundPlane
from tests.helpers.captures import make_capture, turning_camera
from tests.helpers.synthetic_smpl import REST_JOINTS

FPS, FRAMES, CAMERA_HEIGHT = 29.97, 30, 1.6
FLOOR = GroundPlane(normal=(0.0, -1.0, 0.0), offset=CAMERA_HEIGHT)  # a level camera 1.6 m up: floor at y = 1.6


def _standing(person_id: int = 1, x: float = 0.0, depth: float = 6.0) -> CapturedPerson:
    """Upright in rest pose, lowest foot joint on the floor, keypoints exactly where its joints project."""
    rest = REST_JOINTS - REST_JOINTS[0]
    orient = np.tile([np.pi, 0.0, 0.0], (FRAMES, 1))  # SMPL's y-up body head-up in the y-down camera
    pose = np.zeros((FRAMES, 23, 3))
    joints = forward_kinematics(rest, orient[:1], pose[:1], np.zeros((1, 3))).joints[0]
    lowest = joints[[j for foot in SMPL_FEET for j in foot], 1].max()  # y grows downwards
    transl = np.tile([x, CAMERA_HEIGHT - lowest, depth], (FRAMES, 1))
    person = CapturedPerson(
        id=person_id, frames=np.arange(FRAMES), global_orient=orient, body_pose=pose, betas=np.zeros(10),
        transl=transl, rest_joints=rest, keypoints2d=np.zeros((FRAMES, 17, 3)), bbox=np.zeros((FRAMES, 4)),
        confidence=np.ones(FRAMES), foot_contact=np.ones((FRAMES, 2)),
    )  # fmt: skip
    return _with_true_keypoints(person)


def _with_true_keypoints(person: CapturedPerson, shift_px: float = 0.0) -> CapturedPerson:
    camera = make_capture().camera
    joints = forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints
    keypoints = np.zeros((person.num_frames, 17, 3))
    for joint, coco in SMPL_TO_COCO.items():
        keypoints[:, coco, :2] = camera.project(joints[:, joint]) + [shift_px, 0.0]
        keypoints[:, coco, 2] = 0.9
    return replace(person, keypoints2d=keypoints)


def _result(*people: CapturedPerson, ground: GroundPlane | None = FLOOR):
    capture = make_capture()
    video = replace(capture.video, fps=FPS, frame_count=FRAMES)
    return replace(capture, video=video, ground=ground, people=list(people))


def test_a_person_standing_on_the_floor_is_plausible():
    report = assess(_result(_standing(1), _standing(2, x=1.0, depth=8.0)))
    assert report.person_frames == 2 * FRAMES and report.has_floor
    assert report.implausible == 0 and report.sinking == 0 and report.floating == 0 and report.teleporting == 0
    assert report.peak_pelvis_speed == pytest.approx(0, abs=1e-9)
    assert report.median_rms_acceleration == pytest.approx(0, abs=1e-6)
    assert report.foot_skate == pytest.approx(0, abs=1e-9)
    assert report.stance_share == 1.0
    assert report.reprojection_px == pytest.approx(0, abs=1e-6)


def test_sinking_floating_and_teleporting_frames_are_counted():
    person = _standing()
    transl = person.transl.copy()
    transl[5:10, 1] += 0.2  # 20 cm into the floor (camera y points down)
    transl[12:15, 1] -= 0.4  # 40 cm above it
    transl[20:, 0] += 1.0  # a 1 m jump sideways between frames 19 and 20
    report = assess(_result(replace(person, transl=transl)))
    assert report.sinking == pytest.approx(5 / FRAMES)
    assert report.floating == pytest.approx(3 / FRAMES)
    # the pelvis jumps into and out of each stretch (0.2 m and 0.4 m in 1/30 s are over 4 m/s too)
    assert report.teleporting == pytest.approx(5 / FRAMES)
    assert report.implausible == pytest.approx((5 + 3 + 3) / FRAMES)  # frames 10, 15 and 20 only teleport
    assert report.peak_pelvis_speed == pytest.approx(1.0 * FPS)


def test_a_planted_foot_that_slides_is_foot_skate():
    person = _standing()
    transl = person.transl.copy()
    transl[:, 0] += np.arange(FRAMES) * 0.05 / FPS  # sliding 5 cm/s, feet flagged planted throughout
    contact = np.ones((FRAMES, 2))
    contact[::2, 1] = 0.0  # the right foot planted on odd frames only: never two frames in a row
    report = assess(_result(replace(person, transl=transl, foot_contact=contact)))
    assert report.foot_skate == pytest.approx(0.05)
    assert report.stance_share == pytest.approx(0.75)
    assert "5.0 cm/s" in format_report(report)


def test_reprojection_is_the_distance_to_observed_keypoints_only():
    person = _with_true_keypoints(_standing(), shift_px=3.0)
    keypoints = person.keypoints2d.copy()
    keypoints[:, 11, :2] += 50.0
    keypoints[:, 11, 2] = 0.1  # a wild but faint keypoint is not evidence
    confidence = np.ones(FRAMES)
    confidence[:3] = 0.0  # filled-in frames are not observations
    keypoints[:3, :, :2] += 100.0
    report = assess(_result(replace(person, keypoints2d=keypoints, confidence=confidence)))
    assert report.reprojection_px == pytest.approx(3.0)


def test_without_a_floor_sinking_and_floating_are_unknown():
    report = assess(_result(_standing(), ground=None))
    assert report.sinking is None and report.floating is None and report.implausible == 0
    assert "unknown (no floor)" in format_report(report)
    assert assess(_result(ground=None)).person_frames == 0  # an empty result has nothing implausible


def test_with_a_moving_camera_keypoints_are_compared_in_their_own_frames_camera():
    still = _result(_standing())
    moving = replace(still, camera_motion=turning_camera(still, pan=8.0, zoom=1.2))
    person = moving.people[0]
    world = forward_kinematics(person.rest_joints, person.global_orient, person.body_pose, person.transl).joints
    seen = moving.camera_motion.in_cameras(person.frames, world)
    focal = moving.camera_motion.focal_px[moving.camera_motion.slots(person.frames)]
    keypoints = person.keypoints2d.copy()
    for joint, coco in SMPL_TO_COCO.items():  # what each frame's turned, zoomed camera saw
        keypoints[:, coco, :2] = (
            seen[:, joint, :2] / seen[:, joint, 2:] * focal[:, None] + moving.camera.principal_point
        )
    filmed = replace(moving, people=[replace(person, keypoints2d=keypoints)])
    assert assess(filmed).reprojection_px == pytest.approx(0, abs=1e-6)
    assert assess(replace(filmed, camera_motion=None)).reprojection_px > 30  # read as a still camera: far off
