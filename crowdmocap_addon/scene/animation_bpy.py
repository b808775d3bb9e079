"""Write Channel arrays into a layered action in bulk: ``keyframe_points.add`` + ``foreach_set``.

One action per person, with one slot per animated object (the armature; the body mesh for its
visibility). The layered API (slots, layers, keyframe strips, channelbags) is the one Blender 4.4+ and
5.x share; ``Action.fcurves`` no longer exists in 5.0.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import bpy
import numpy as np

from ..people.motion import PersonMotion
from .keyframes import Channel, motion_channels, property_channels, visibility_channels
from .names import action_name
from .transaction_bpy import CreatedData

LAYER_NAME = "CrowdMocap"


@functools.cache
def _interpolation_code(name: str) -> int:
    return bpy.types.Keyframe.bl_rna.properties["interpolation"].enum_items[name].value


def _write_channel(bag: bpy.types.ActionChannelbag, channel: Channel, groups: dict[str, bpy.types.ActionGroup]) -> None:
    fcurve = bag.fcurves.new(channel.data_path, index=channel.index)
    if channel.group:
        if channel.group not in groups:
            groups[channel.group] = bag.groups.new(channel.group)
        fcurve.group = groups[channel.group]
    points = fcurve.keyframe_points
    count = len(channel.frames)
    points.add(count)
    points.foreach_set("co", channel.keyframe_co())
    # uint8 matches the enum's storage: Blender 4.5 copies it without a per-item conversion.
    points.foreach_set("interpolation", np.full(count, _interpolation_code(channel.interpolation), dtype=np.uint8))
    fcurve.update()  # recomputes the (unused for linear keys) handles, so later edits start from sane ones


def animate(
    name: str,
    targets: Sequence[tuple[bpy.types.ID, Sequence[Channel]]],
    created: CreatedData,
) -> bpy.types.Action:
    """Create action ``name`` with a slot per target (an object, or data such as a camera's) holding its
    channels, and assign it to each."""
    action = created.add(bpy.data.actions.new(name))
    strip = action.layers.new(LAYER_NAME).strips.new(type="KEYFRAME")
    for obj, channels in targets:
        slot = action.slots.new(id_type=obj.id_type, name=obj.name)
        bag = strip.channelbag(slot, ensure=True)
        groups: dict[str, bpy.types.ActionGroup] = {}
        for channel in channels:
            _write_channel(bag, channel, groups)
        animation = obj.animation_data_create()
        animation.action = action
        animation.action_slot = slot
    return action


def animate_person(
    armature: bpy.types.Object, body: bpy.types.Object | None, motion: PersonMotion, created: CreatedData
) -> bpy.types.Action:
    """The person's action: every bone, the pelvis and the per-frame properties on the armature, and the
    visibility (shown from the first frame to the last) on the armature and the body."""
    visibility = visibility_channels(motion.first, motion.last)
    targets = [(armature, motion_channels(motion) + property_channels(motion) + visibility)]
    if body is not None:
        targets.append((body, visibility))
    return animate(action_name(armature.name), targets, created)


def channelbag(obj: bpy.types.Object) -> bpy.types.ActionChannelbag | None:
    """The channelbag of ``obj``'s assigned action slot (layered actions, Blender 4.4+), or None."""
    animation = obj.animation_data
    if animation is None or animation.action is None or animation.action_slot is None:
        return None
    for layer in animation.action.layers:
        for strip in layer.strips:
            bag = strip.channelbag(animation.action_slot)
            if bag is not None:
                return bag
    return None


def curves_by_path(obj: bpy.types.Object) -> dict[tuple[str, int], bpy.types.FCurve]:
    """``obj``'s F-curves by (data path, array index)."""
    bag = channelbag(obj)
    if bag is None:
        return {}
    return {(fcurve.data_path, fcurve.array_index): fcurve for fcurve in bag.fcurves}


def curve_keys(fcurve: bpy.types.FCurve) -> tuple[np.ndarray, np.ndarray]:
    """(K,) key frames and (K,) values, in bulk."""
    points = fcurve.keyframe_points
    co = np.empty(len(points) * 2, dtype=np.float32)
    points.foreach_get("co", co)
    return co[0::2].astype(np.float64), co[1::2].astype(np.float64)


def sample_curve(fcurve: bpy.types.FCurve, frames: np.ndarray) -> np.ndarray:
    """(T,) the curve's values at ``frames``: the keys themselves or bulk linear interpolation when that is
    exactly what Blender does, else Blender's own evaluation frame by frame."""
    points = fcurve.keyframe_points
    interpolation = np.empty(len(points), dtype=np.int32)
    points.foreach_get("interpolation", interpolation)
    plain = len(fcurve.modifiers) == 0 and fcurve.extrapolation == "CONSTANT" and len(points) > 0
    keys, values = curve_keys(fcurve) if plain else (None, None)
    if plain and len(keys) == len(frames) and np.array_equal(keys, frames):
        return values
    if plain and np.all(interpolation[:-1] == _interpolation_code("LINEAR")):
        return np.interp(frames, keys, values)
    return np.array([fcurve.evaluate(float(frame)) for frame in frames])
