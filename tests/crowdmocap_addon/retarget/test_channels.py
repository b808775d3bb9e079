"""Keyframe channels in each rotation mode reproduce the solved rotations, without flips or spins."""

import numpy as np
import pytest

from crowdmocap_addon.core.geometry import axis_angle_to_matrix, quaternion_to_matrix
from crowdmocap_addon.retarget.channels import ROTATION_MODES, bone_channels, setting_channels
from crowdmocap_addon.retarget.transforms import axis_angle4_to_matrix, euler_to_matrix
from crowdmocap_addon.scene.keyframes import bone_path

# A bone turning steadily through several full turns: quaternion signs and Euler angles must stay continuous.
ROTATIONS = axis_angle_to_matrix(np.linspace(0.0, 6 * np.pi, 120)[:, None] * np.array([0.3, 0.8, 0.52]))
FRAMES = np.arange(1.0, 121.0)


def _decode(mode: str, values: np.ndarray) -> np.ndarray:
    if mode == "QUATERNION":
        return quaternion_to_matrix(values)
    if mode == "AXIS_ANGLE":
        return axis_angle4_to_matrix(values)
    return euler_to_matrix(values, mode)


@pytest.mark.parametrize("mode", ROTATION_MODES)
def test_channels_in_every_rotation_mode_reproduce_the_rotations(mode):
    channels = bone_channels("mixamorig:LeftArm", FRAMES, rotations=ROTATIONS, mode=mode)
    values = np.stack([channel.values for channel in channels], axis=1)
    np.testing.assert_allclose(_decode(mode, values), ROTATIONS, atol=1e-9)
    prop = {"QUATERNION": "rotation_quaternion", "AXIS_ANGLE": "rotation_axis_angle"}.get(mode, "rotation_euler")
    assert {channel.data_path for channel in channels} == {f'pose.bones["mixamorig:LeftArm"].{prop}'}
    assert [channel.index for channel in channels] == list(range(values.shape[1]))
    assert all(channel.group == "mixamorig:LeftArm" and channel.interpolation == "LINEAR" for channel in channels)
    if mode == "QUATERNION":
        assert np.all(np.sum(values[1:] * values[:-1], axis=1) > 0)  # no sign flips
    elif mode != "AXIS_ANGLE":
        assert np.abs(np.diff(values, axis=0)).max() < np.pi  # no wrap-around spins


def test_locations_get_three_curves_and_names_are_escaped():
    channels = bone_channels('odd "name"', FRAMES[:3], locations=np.ones((3, 3)))
    assert [channel.data_path for channel in channels] == [r'pose.bones["odd \"name\""].location'] * 3
    assert bone_path("a\\b", "location") == r'pose.bones["a\\b"].location'


def test_rig_settings_are_keyed_once_and_missing_ones_are_listed():
    properties = {"torso": {"neck_follow": 1.0, "head_follow": 1.0}, "thigh_parent.L": {"IK_FK": 1.0}}
    available = ['torso["neck_follow"]', 'torso["head_follow"]']
    channels, missing = setting_channels(properties, 5.0, available)
    assert [channel.data_path for channel in channels] == ['pose.bones["torso"]["neck_follow"]',
                                                           'pose.bones["torso"]["head_follow"]']  # fmt: skip
    assert all(len(channel.frames) == 1 and channel.interpolation == "CONSTANT" for channel in channels)
    assert missing == ['thigh_parent.L["IK_FK"]']
