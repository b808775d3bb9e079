"""A retargeted motion as keyframe Channels in each target bone's own rotation mode.

Quaternion bones get sign-continuous quaternions; Euler bones angles unwrapped across frames (so no key
pair spins a full turn); axis-angle bones (angle, x, y, z). Rig settings from the preset (Rigify's FK
switches) are keyed once, constant, so the action carries them and the rig's own values are untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ..core.geometry import matrix_to_quaternion, sign_continuous
from ..scene.keyframes import Channel, bone_path, curve_channels, quote
from .transforms import EULER_ORDERS, matrix_to_axis_angle4, matrix_to_euler, unwrap_euler

ROTATION_MODES = ("QUATERNION", *EULER_ORDERS, "AXIS_ANGLE")


def rotation_values(rotations: np.ndarray, mode: str) -> tuple[str, np.ndarray]:
    """(T, 3, 3) local rotations -> (pose-bone property, (T, C) values) for a bone's ``rotation_mode``."""
    if mode == "QUATERNION":
        return "rotation_quaternion", sign_continuous(matrix_to_quaternion(rotations))
    if mode in EULER_ORDERS:
        return "rotation_euler", unwrap_euler(matrix_to_euler(rotations, mode))
    if mode == "AXIS_ANGLE":
        return "rotation_axis_angle", matrix_to_axis_angle4(rotations)
    raise ValueError(f"unknown rotation mode {mode!r}; Blender's are {', '.join(ROTATION_MODES)}")


def bone_channels(
    bone: str, frames: np.ndarray, *, rotations: np.ndarray | None = None, mode: str = "QUATERNION",
    locations: np.ndarray | None = None,
) -> list[Channel]:  # fmt: skip
    """Rotation (in ``mode``) and location curves for one bone, one linear key per frame."""
    channels = []
    if rotations is not None:
        prop, values = rotation_values(rotations, mode)
        channels += curve_channels(bone_path(bone, prop), bone, frames, values)
    if locations is not None:
        channels += curve_channels(bone_path(bone, "location"), bone, frames, locations)
    return channels


def setting_channels(
    properties: Mapping[str, Mapping[str, float]], frame: float, available: Sequence[str]
) -> tuple[list[Channel], list[str]]:
    """One constant key per rig setting ``pose.bones[bone][prop]`` at ``frame``; settings the rig lacks are
    returned as ``bone["prop"]`` strings instead."""
    channels, missing = [], []
    for bone, values in properties.items():
        for prop, value in values.items():
            label = f'{bone}["{prop}"]'
            if label not in available:
                missing.append(label)
                continue
            path = f'pose.bones["{quote(bone)}"]["{quote(prop)}"]'
            channels.append(
                Channel(
                    data_path=path,
                    index=0,
                    group="Rig settings",
                    frames=np.array([frame]),
                    values=np.array([value]),
                    interpolation="CONSTANT",
                )
            )
    return channels, missing
