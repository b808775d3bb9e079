"""Export presets: which exporter, with which settings, for which engine (pure data, no bpy).

The FBX settings are the ones each engine's importer expects: Unity reads FBX in metres with Y up
and -Z forward; Unreal reads Z up and X forward, only deform bones under one root bone. Both files state
their unit (metres: UnitScaleFactor 100) and leave every node at scale 1: Blender's default instead
writes centimetres with a x100 scale on the armature node, which Unreal turns into a scaled root bone
(x110 for a character 1.1x the person's size).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

FORMATS = ("fbx", "glb", "bvh")


@dataclass(kw_only=True, frozen=True)
class ExportPreset:
    name: str
    format: str  # fbx | glb | bvh
    description: str
    settings: dict[str, Any] = field(default_factory=dict)  # keyword arguments of Blender's exporter
    root_name: str | None = None  # the armature object is renamed to this while exporting (Unreal's root bone)

    @property
    def extension(self) -> str:
        return "." + self.format


_FBX_COMMON: dict[str, Any] = {
    "use_selection": True, "add_leaf_bones": False, "bake_anim": True, "bake_anim_use_all_bones": True,
    "bake_anim_use_nla_strips": False, "bake_anim_use_all_actions": False, "bake_anim_force_startend_keying": True,
    "bake_anim_simplify_factor": 0.0, "axis_forward": "-Z", "axis_up": "Y", "primary_bone_axis": "Y",
    "secondary_bone_axis": "X", "mesh_smooth_type": "FACE", "use_armature_deform_only": False,
}  # fmt: skip

PRESETS: dict[str, ExportPreset] = {
    "unity": ExportPreset(
        name="unity",
        format="fbx",
        description="Unity: FBX in metres, Y up, scale 1, no leaf bones, baked animation",
        settings={**_FBX_COMMON, "apply_unit_scale": True, "apply_scale_options": "FBX_SCALE_ALL", "global_scale": 1.0},
    ),
    "unreal": ExportPreset(
        name="unreal",
        format="fbx",
        description="Unreal Engine: FBX that states its units (metres) with every node at scale 1, Z up, "
        "deform bones only, one 'root' bone",
        settings={
            **_FBX_COMMON,
            "apply_unit_scale": True,
            "apply_scale_options": "FBX_SCALE_UNITS",
            "global_scale": 1.0,
            "use_armature_deform_only": True,
            "axis_forward": "X",
            "axis_up": "Z",
        },
        root_name="root",
    ),
    "godot": ExportPreset(
        name="godot",
        format="glb",
        description="Godot and the web: glTF binary (.glb) with skins and baked animation",
        settings={
            "export_format": "GLB",
            "use_selection": True,
            "export_animations": True,
            "export_skins": True,
            "export_force_sampling": True,
            "export_animation_mode": "ACTIVE_ACTIONS",
            "export_frame_range": True,
            "export_anim_slide_to_zero": False,
            "export_optimize_animation_size": False,
            "export_yup": True,
        },
    ),
    "bvh": ExportPreset(
        name="bvh",
        format="bvh",
        description="BVH per person for mocap tools (skeleton and motion, no mesh)",
        settings={"rotate_mode": "NATIVE", "root_transform_only": False},
    ),
}


class ExportPresetError(ValueError):
    pass


class BvhExportError(ValueError):
    """An armature the BVH format cannot hold as it is; the message says why."""


def find_preset(name: str) -> ExportPreset:
    try:
        return PRESETS[name]
    except KeyError:
        raise ExportPresetError(f"unknown export preset {name!r}; known: {', '.join(PRESETS)}") from None


def output_name(capture: str, person: str | None, preset: ExportPreset) -> str:
    """``street_Person_007.fbx`` per person (people's names already carry their capture's label),
    ``street_crowd.fbx`` for everyone in one file."""
    return f"{person}{preset.extension}" if person else f"{capture}_crowd{preset.extension}"
