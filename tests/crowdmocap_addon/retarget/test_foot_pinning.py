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
