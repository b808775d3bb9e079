"""Retarget settings kept with the scene (saved in the .blend): the editable bone map and the options."""

from __future__ import annotations

import json

import bpy

from ..core.joints import JOINT_NAMES
from ..core.options import RETARGET_OPTIONS
from ..option_props_bpy import option_property
from .presets import BoneMap
from .presets_bpy import all_presets

ROOT_MOTION_ITEMS = [
    ("HIPS", "On the hips", "The hips carry the whole motion, scaled to the rig's hip height"),
    ("PATH", "Captured path", "The hips follow the person's path exactly (only the height is scaled): "
                              "characters stay on their people over the footage, for crowd replacement"),
    ("IN_PLACE", "In place", "No horizontal root motion: the character stays over its origin"),
    ("ROOT_BONE", "On the root bone", "Horizontal motion on the rig's root bone, the hips keep their rest "
                                      "(UE/Unity convention); the hips when the rig has no root bone"),
]  # fmt: skip


PEOPLE_ITEMS = [
    ("SELECTED", "Selected", "The selected CrowdMocap people"),
    ("SCENE", "All in scene", "Every CrowdMocap person in the scene, on screen at this frame or not"),
]


def _preset_search(self, context: bpy.types.Context, edit_text: str) -> list[tuple[str, str]]:
    """Suggestions for the preset field: "auto" and every preset id with its name."""
    del self, context
    presets, _ = all_presets()
    items = [("auto", "Detect from the rig's bone names")] + [(preset.id, preset.name) for preset in presets]
    return [item for item in items if edit_text.lower() in item[0].lower() or edit_text.lower() in item[1].lower()]


class CrowdMocapBoneMapItem(bpy.types.PropertyGroup):
    joint: bpy.props.StringProperty(name="SMPL joint", description="The capture's joint")  # type: ignore[valid-type]
    bone: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Target bone", description="The rig's bone this joint drives; empty leaves it unmapped"
    )


class CrowdMocapRetargetSettings(bpy.types.PropertyGroup):
    preset: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Preset", default="auto", search=_preset_search,
        description="Bone-map preset to load, or 'auto' to detect it from the active rig's bone names",
    )  # fmt: skip
    bone_map: bpy.props.CollectionProperty(type=CrowdMocapBoneMapItem)  # type: ignore[valid-type]
    bone_map_index: bpy.props.IntProperty(name="Joint")  # type: ignore[valid-type]
    map_name: bpy.props.StringProperty(name="Map", description="Where the map in the list came from")  # type: ignore[valid-type]
    root_bone: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Root bone", description="The rig's root bone for 'root motion on the root bone'; empty for none"
    )
    map_properties: bpy.props.StringProperty(  # type: ignore[valid-type]
        name="Rig settings", description="Rig settings keyed with the motion (JSON, from the loaded preset)",
        default="{}", options={"HIDDEN"},
    )  # fmt: skip
    preset_name: bpy.props.StringProperty(name="Name", description="Name for the saved preset")  # type: ignore[valid-type]
    people: bpy.props.EnumProperty(name="People", items=PEOPLE_ITEMS, default="SELECTED")  # type: ignore[valid-type]
    duplicate_per_person: option_property(RETARGET_OPTIONS["duplicate_per_person"])  # type: ignore[valid-type]
    root_motion: bpy.props.EnumProperty(name="Root motion", items=ROOT_MOTION_ITEMS, default="HIPS")  # type: ignore[valid-type]
    foot_pin: option_property(RETARGET_OPTIONS["foot_pin"])  # type: ignore[valid-type]
    blend_frames: option_property(RETARGET_OPTIONS["blend_frames"])  # type: ignore[valid-type]

    def has_map(self) -> bool:
        return any(item.bone for item in self.bone_map)

    def to_bone_map(self) -> BoneMap:
        """The list in the panel as a BoneMap (BoneMapError if a bone is driven twice)."""
        return BoneMap(
            id=self.map_name or "panel",
            name=self.map_name or "Panel map",
            bones={item.joint: item.bone for item in self.bone_map if item.bone},
            root=(self.root_bone,) if self.root_bone else (),
            properties=json.loads(self.map_properties or "{}"),
        )

    def load(self, bone_map: BoneMap, root: str = "") -> None:
        """Fill the list from a map: one row per SMPL joint, mapped or not."""
        self.bone_map.clear()
        for joint in JOINT_NAMES:
            item = self.bone_map.add()
            item.joint = joint
            item.bone = bone_map.bones.get(joint, "")
        self.map_name = bone_map.name
        self.root_bone = root
        self.map_properties = json.dumps({bone: dict(values) for bone, values in bone_map.properties.items()})


CLASSES = (CrowdMocapBoneMapItem, CrowdMocapRetargetSettings)


def register() -> None:
    for cls in CLASSES:
        bpy.utils.register_class(cls)
    bpy.types.Scene.crowdmocap_retarget = bpy.props.PointerProperty(type=CrowdMocapRetargetSettings)


def unregister() -> None:
    del bpy.types.Scene.crowdmocap_retarget
    for cls in reversed(CLASSES):
        bpy.utils.unregister_class(cls)
