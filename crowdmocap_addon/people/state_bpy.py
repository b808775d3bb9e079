"""The People list's own state, kept with the scene: which capture it shows and which row is active.

Clicking a row (changing ``active_index``) goes to that person: playhead to their first frame, selected,
framed in every 3D view, their flagged stretches as timeline markers.
"""

from __future__ import annotations

import bpy

from .edit_bpy import focus, show_flags
from .record_bpy import capture_of, captures, is_capture, is_person


def _is_capture(self, collection: bpy.types.Collection) -> bool:
    del self
    return is_capture(collection)


def frame_in_views(context: bpy.types.Context) -> None:
    """View Selected in every 3D view of the window (nothing to do headless, where there is none)."""
    window = context.window
    if window is None or window.screen is None:
        return
    for area in window.screen.areas:
        region = next((r for r in area.regions if r.type == "WINDOW"), None) if area.type == "VIEW_3D" else None
        if region is not None:
            with context.temp_override(window=window, area=area, region=region):
                bpy.ops.view3d.view_selected()


def _go_to_row(self, context: bpy.types.Context) -> None:
    capture = shown_capture(context)
    if capture is None or not 0 <= self.active_index < len(capture.objects):
        return
    person = capture.objects[self.active_index]
    if not is_person(person):
        return
    focus(context, person)
    show_flags(context.scene, person)
    frame_in_views(context)


class CrowdMocapPeopleState(bpy.types.PropertyGroup):
    capture: bpy.props.PointerProperty(  # type: ignore[valid-type]
        name="Capture", type=bpy.types.Collection, poll=_is_capture,
        description="The capture whose people are listed (default: the active person's, else the latest)",
    )  # fmt: skip
    active_index: bpy.props.IntProperty(name="Person", default=-1, update=_go_to_row)  # type: ignore[valid-type]


def shown_capture(context: bpy.types.Context) -> bpy.types.Collection | None:
    """The capture picked in the list, else the active person's, else the latest one imported."""
    state = context.scene.crowdmocap_people
    if state.capture is not None and is_capture(state.capture):
        return state.capture
    found = capture_of(context.active_object)
    if found is not None:
        return found
    listed = captures()
    return listed[-1] if listed else None


def active_person(context: bpy.types.Context) -> bpy.types.Object | None:
    """The People list's active row, else the active object when it is a person (or their body)."""
    capture = shown_capture(context)
    index = context.scene.crowdmocap_people.active_index
    if capture is not None and 0 <= index < len(capture.objects) and is_person(capture.objects[index]):
        return capture.objects[index]
    obj = context.active_object
    if obj is not None and obj.type == "MESH" and is_person(obj.parent):
        return obj.parent
    return obj if is_person(obj) else None


def register() -> None:
    bpy.utils.register_class(CrowdMocapPeopleState)
    bpy.types.Scene.crowdmocap_people = bpy.props.PointerProperty(type=CrowdMocapPeopleState)


def unregister() -> None:
    del bpy.types.Scene.crowdmocap_people
    bpy.utils.unregister_class(CrowdMocapPeopleState)
