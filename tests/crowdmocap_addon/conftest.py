"""Blender tests run in this process's bpy: every test that asks for ``bpy_empty`` starts from an empty scene."""

import pytest


@pytest.fixture
def bpy_empty():
    """bpy, reset to an empty scene (the factory startup without its cube, camera and light)."""
    import bpy

    bpy.ops.wm.read_factory_settings(use_empty=True)
    return bpy
