"""Blender properties made from the one option table (``core.options``): same default, bounds and help."""

from __future__ import annotations

from typing import Any

import bpy

from .core.options import Option


def option_property(option: Option, *, items: list[tuple[str, str, str]] | None = None, **extra: Any) -> Any:
    """A ``bpy.props`` property for ``option``; ``items`` (enum options) give each choice a label and tooltip."""
    text = option.help[:1].upper() + option.help[1:]
    common: dict[str, Any] = {"name": option.label, "description": text, **extra}
    if option.kind is bool:
        return bpy.props.BoolProperty(default=bool(option.default), **common)
    if option.kind in (int, float):
        bounds = {key: option.kind(value) for key, value in (("min", option.minimum), ("max", option.maximum))
                  if value is not None}  # fmt: skip
        make = bpy.props.IntProperty if option.kind is int else bpy.props.FloatProperty
        return make(default=option.kind(option.default), **bounds, **common)
    if option.choices:
        if items is None or [item[0] for item in items] != list(option.choices):
            raise ValueError(f"{option.name}: enum items must list exactly {option.choices}")
        return bpy.props.EnumProperty(items=items, default=option.default, **common)
    raise TypeError(f"{option.name}: no Blender property for {option.kind.__name__} options")
