"""Planted feet stay put after retargeting (the pinning maths itself is tested in tests/crowdmocap_addon/core)."""

import numpy as np
import pytest

from crowdmocap_addon.core.joints import SMPL_LEGS
from crowdmocap_addon.core.legs import contact_segments
from crowdmocap_addon.retarget.transfer import RetargetOptions, retarget_motion
from tests.crowdmocap_addon.retarget.motion import source_motion, stepping_capture, world_heads
from tests.crowdmocap_addon.retarget.rigs import mixamo_rig, ue5_rig
from tests.crowdmocap_addon.retarget.test_transfer import target_rig


@pytest.mark.parametrize("make", [mixamo_rig, ue5_rig], ids=["mixamo", "ue5"])
def test_planted_feet_stay_put_after_retargeting(make):
    capture = stepping_capture(seed=2, people=1, frames=40)
    motion = source_motion(capture)
    rig = target_rig(make())
    free = retarget_motion(motion, rig, RetargetOptions(foot_pin=False))
    pinned = retarget_motion(motion, rig, RetargetOptions(foot_pin=True, blend_frames=3))
    free_heads = world_heads(rig.skeleton, free.pose)
    heads = world_heads(rig.skeleton, pinned.pose)
    worst_free = 0.0
    for column, leg in enumerate(SMPL_LEGS):
        ankle = rig.joints[leg.ankle]
        for first, last in contact_segments(motion.contacts[:, column]):
            planted = heads[first : last + 1, ankle]
            assert np.abs(planted[:, 2] - planted[0, 2]).max() < 0.02  # contact height kept within 2 cm
            assert np.linalg.norm(np.diff(planted, axis=0), axis=1).max() < 0.01  # < 1 cm/frame of skate
            worst_free = max(
                worst_free, np.linalg.norm(np.diff(free_heads[first : last + 1, ankle], axis=0), axis=1).max()
            )
            np.testing.assert_allclose(planted[0], free_heads[first, ankle], atol=1e-9)  # anchored where it landed
    assert worst_free > 0.01  # without pinning these feet do skate: the test has something to fix
    # Outside contacts and their blends the legs are untouched.
    free_frames = np.all(pinned.pin_weights == 0, axis=1)
    np.testing.assert_allclose(heads[free_frames], free_heads[free_frames], atol=1e-9)


def _leg_bend_from_free(pinned, free, rig, frames) -> float:
    """Worst angle (degrees) between the pinned and the free thigh/calf world rotations over ``frames``."""
    worst = 0.0
    for leg in SMPL_LEGS:
        for joint in (leg.hip, leg.knee):
            bone = rig.joints[joint]
            a, b = pinned.world_rotations[bone][frames], free.world_rotations[bone][frames]
            cos = (np.trace(a @ np.swapaxes(b, -1, -2), axis1=-2, axis2=-1) - 1) / 2
            worst = max(worst, float(np.degrees(np.arccos(np.clip(cos, -1, 1))).max()))
    return worst


def test_a_pin_lets_go_when_the_body_jumps_and_pins_again_where_the_foot_lands():
    capture = stepping_capture(seed=2, people=1, frames=40)
    person = capture.people[0]
    first, last = next((a, b) for a, b in contact_segments(person.foot_contact[:, 0]) if b - a >= 6)
    jump = (first + last) // 2
    person.transl[jump:] += np.array([0.35, 0.0, 0.0])  # a 35 cm glitch mid-contact (camera x: sideways)
    motion = source_motion(capture)
    rig = target_rig(mixamo_rig())
    free = retarget_motion(motion, rig, RetargetOptions(foot_pin=False))
    held = retarget_motion(motion, rig, RetargetOptions(foot_pin=True, blend_frames=0, pin_release=False))
    released = retarget_motion(motion, rig, RetargetOptions(foot_pin=True, blend_frames=0))
    after = np.arange(jump, last + 1)
    # At the jump the held pin bends the legs 44 deg away from the motion; let go, the foot is re-planted
    # where the body put it (0 deg). Over the rest of the contact the re-planted leg deviates from the jittery
    # synthetic motion as much as any pinned leg does (10-20 deg here, before the jump too), the held one twice that.
    held_bend = [_leg_bend_from_free(held, free, rig, [frame]) for frame in after]
    released_bend = [_leg_bend_from_free(released, free, rig, [frame]) for frame in after]
    assert held_bend[0] > 30.0 and released_bend[0] < 1e-6
    assert np.mean(released_bend) < 0.5 * np.mean(held_bend)
    heads = world_heads(rig.skeleton, released.pose)
    ankle = rig.joints[SMPL_LEGS[0].ankle]
    planted = heads[jump : last + 1, ankle]
    assert np.linalg.norm(np.diff(planted, axis=0), axis=1).max() < 0.01  # and is pinned again where it landed
    before = heads[first:jump, ankle]
    assert np.linalg.norm(np.diff(before, axis=0), axis=1).max() < 0.01  # the pin before the jump held
