"""The add-on's Blender surfaces agree with the option table: scene settings, preferences, panel, retarget.

Defaults and bounds are read from Blender's own RNA (what a user sees), the panel from what its draw()
asks the layout for. Options kept off a surface say so in ``crowdmocap_addon.core.options``.
"""

from __future__ import annotations

import pytest

from crowdmocap_addon.core.options import (
    CAPTURE_OPTIONS,
    EXPORT_OPTIONS,
    PANEL,
    PREFERENCES,
    RETARGET_OPTIONS,
    SCENE_OPTIONS,
    on,
)

pytestmark = pytest.mark.blender
MODULE = "crowdmocap_addon"


@pytest.fixture
def addon(bpy_empty):
    import addon_utils

    addon_utils.enable(MODULE, default_set=True)
    yield bpy_empty
    addon_utils.disable(MODULE, default_set=True)


def _assert_property_matches(rna, option, where: str) -> None:
    prop = rna.properties.get(option.name)
    assert prop is not None, f"{where} has no {option.name}"
    default = prop.default
    assert (default == option.default) if option.kind is not float else abs(default - option.default) < 1e-6, where
    if option.minimum is not None:
        assert prop.hard_min == option.minimum, f"{where}.{option.name} min"
    if option.maximum is not None:
        assert prop.hard_max == option.maximum, f"{where}.{option.name} max"
    if option.choices:
        assert tuple(item.identifier for item in prop.enum_items) == option.choices, where


class _Recorder:
    """Stands in for a UILayout: records every ``prop(settings, name)`` the panel asks for."""

    def __init__(self, props: list[str]) -> None:
        object.__setattr__(self, "props", props)

    def __getattr__(self, name):
        def record(*args, **kwargs):
            if name == "prop" and len(args) >= 2:
                self.props.append(args[1])
            return _Recorder(self.props)

        return record

    def __setattr__(self, name, value) -> None:  # layout flags such as ``use_property_split``
        pass


def test_scene_settings_and_the_panel_show_every_panel_option_with_the_tables_defaults(addon):
    bpy = addon
    rna = bpy.context.scene.crowdmocap.bl_rna
    panel_options = {**on(PANEL, CAPTURE_OPTIONS), **on(PANEL, SCENE_OPTIONS)}
    for option in panel_options.values():
        _assert_property_matches(rna, option, "scene settings")
    drawn: list[str] = []
    bpy.types.VIEW3D_PT_crowdmocap.draw(type("Panel", (), {"layout": _Recorder(drawn)})(), bpy.context)
    assert set(panel_options) <= set(drawn), set(panel_options) - set(drawn)


def test_preferences_keep_a_default_for_every_preference_option(addon):
    bpy = addon
    rna = bpy.context.preferences.addons[MODULE].preferences.bl_rna
    for option in {**on(PREFERENCES, CAPTURE_OPTIONS), **on(PREFERENCES, SCENE_OPTIONS)}.values():
        renamed = type(option)(**{**option.__dict__, "name": f"default_{option.name}"})
        _assert_property_matches(rna, renamed, "preferences")


def test_the_retarget_panel_and_operator_share_their_defaults(addon):
    bpy = addon
    for option in RETARGET_OPTIONS.values():
        _assert_property_matches(bpy.context.scene.crowdmocap_retarget.bl_rna, option, "retarget settings")
        _assert_property_matches(bpy.ops.crowdmocap.retarget.get_rna_type(), option, "retarget operator")


def test_the_export_operator_and_command_share_their_defaults(addon):
    import argparse

    from crowdmocap_addon.headless import build_parser

    bpy = addon
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parsed = commands.choices["export"].parse_args(["scene.blend", "--format", "fbx", "-o", "out"])
    for option in EXPORT_OPTIONS.values():
        _assert_property_matches(bpy.ops.crowdmocap.export_crowd.get_rna_type(), option, "export operator")
        assert getattr(parsed, option.name) == option.default, option.name


def test_duplicate_per_person_has_one_default_on_every_surface(addon):
    import argparse
    import inspect

    from crowdmocap_addon.headless import build_parser
    from crowdmocap_addon.retarget.retarget_bpy import retarget

    default = RETARGET_OPTIONS["duplicate_per_person"].default
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    parsed = commands.choices["retarget"].parse_args(["scene.blend", "--rig", "rig.fbx", "-o", "out.blend"])
    assert parsed.per_person is default
    assert inspect.signature(retarget).parameters["per_person"].default is default
    assert addon.context.scene.crowdmocap_retarget.duplicate_per_person is default
