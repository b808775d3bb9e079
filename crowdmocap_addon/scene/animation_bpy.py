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

from .keyframes import Channel
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
    targets: Sequence[tuple[bpy.types.Object, Sequence[Channel]]],
    created: CreatedData,
) -> bpy.types.Action:
    """Create action ``name`` with a slot per target object holding its channels, and assign it to each."""
    action = created.add(bpy.data.actions.new(name))
    strip = action.layers.new(LAYER_NAME).strips.new(type="KEYFRAME")
    for obj, channels in targets:
        slot = action.slots.new(id_type="OBJECT", name=obj.name)
        bag = strip.channelbag(slot, ensure=True)
        groups: dict[str, bpy.types.ActionGroup] = {}
        for channel in channels:
            _write_channel(bag, channel, groups)
        animation = obj.animation_data_create()
        animation.action = action
        animation.action_slot = slot
    return action
