"""The People list's buttons. Each acts on the person named by its ``person`` option, else the list's
active row (else the active object), so scripts can call them as the panel does."""

from __future__ import annotations

import bpy

from . import edit_bpy
from .motion import PersonEditError
from .record_bpy import capture_of, is_person, people_of
from .state_bpy import active_person, shown_capture

_PERSON_OPTION = {"name": "Person", "description": "The person's armature name (default: the People list's active row)"}


def _person(context: bpy.types.Context, name: str) -> bpy.types.Object:
    if name:
        obj = bpy.data.objects.get(name)
        if not is_person(obj):
            raise PersonEditError(f"there is no CrowdMocap person called '{name}'")
        return obj
    person = active_person(context)
    if person is None:
        raise PersonEditError("no person picked: click one in the People list (or make one the active object)")
    return person


def _show_row(context: bpy.types.Context, person: bpy.types.Object | None) -> None:
    """Make ``person`` the list's active row (which goes to them), or clear the row and its markers."""
    state = context.scene.crowdmocap_people
    capture = capture_of(person) if person is not None else None
    if capture is None:
        state.active_index = -1
        edit_bpy.show_flags(context.scene, None)
        return
    if shown_capture(context) != capture:
        state.capture = capture
    state.active_index = list(capture.objects).index(person)


class _PersonOperator(bpy.types.Operator):
    """Runs ``act`` and turns a PersonEditError into a report, so a refused edit changes nothing."""

    bl_options = {"REGISTER", "UNDO"}  # noqa: RUF012 (Blender reads a plain set)

    def act(self, context: bpy.types.Context) -> str:
        raise NotImplementedError

    def execute(self, context: bpy.types.Context) -> set[str]:
        try:
            message = self.act(context)
        except PersonEditError as exc:
            self.report({"ERROR"}, str(exc))
            return {"CANCELLED"}
        self.report({"INFO"}, message)
        return {"FINISHED"}


class CROWDMOCAP_OT_person_delete(_PersonOperator):  # noqa: N801 (Blender's naming)
    """Delete the person: armature, body, action and material"""

    bl_idname = "crowdmocap.person_delete"
    bl_label = "Delete Person"
    person: bpy.props.StringProperty(**_PERSON_OPTION)  # type: ignore[valid-type]

    def act(self, context: bpy.types.Context) -> str:
        name = edit_bpy.delete_person(context, _person(context, self.person))
        _show_row(context, None)
        return f"Deleted {name}"


class CROWDMOCAP_OT_people_merge(_PersonOperator):  # noqa: N801
    """Merge two people the tracker split: the one who appears first continues as the other, the gap between
    them bridged smoothly and flagged (default: the two selected people)"""

    bl_idname = "crowdmocap.people_merge"
    bl_label = "Merge People"
    first: bpy.props.StringProperty(name="First", description="One person's armature name")  # type: ignore[valid-type]
    second: bpy.props.StringProperty(name="Second", description="The other's")  # type: ignore[valid-type]

    def act(self, context: bpy.types.Context) -> str:
        if self.first and self.second:
            pair = [_person(context, self.first), _person(context, self.second)]
        else:
            pair = [obj for obj in context.selected_objects if is_person(obj)]
            if len(pair) != 2:
                raise PersonEditError(f"select exactly two people to merge ({len(pair)} selected)")
        names = " and ".join(obj.name for obj in pair)
        kept = edit_bpy.merge_people(context, *pair)
        _show_row(context, kept)
        return f"Merged {names} into {kept.name}"


class CROWDMOCAP_OT_person_split(_PersonOperator):  # noqa: N801
    """Split the person in two at the current frame: a new person takes this frame on"""

    bl_idname = "crowdmocap.person_split"
    bl_label = "Split at Playhead"
    person: bpy.props.StringProperty(**_PERSON_OPTION)  # type: ignore[valid-type]
    frame: bpy.props.IntProperty(  # type: ignore[valid-type]
        name="Frame", default=-1, description="Scene frame the new person starts on (default: the current one)"
    )

    def act(self, context: bpy.types.Context) -> str:
        person = _person(context, self.person)
        frame = self.frame if self.frame >= 0 else context.scene.frame_current
        twin = edit_bpy.split_person(context, person, frame)
        _show_row(context, twin)
        return f"Split {person.name} at frame {frame}: {twin.name} takes over"


class CROWDMOCAP_OT_person_rename(_PersonOperator):  # noqa: N801
    """Rename the person (their body, action and material follow)"""

    bl_idname = "crowdmocap.person_rename"
    bl_label = "Rename Person"
    person: bpy.props.StringProperty(**_PERSON_OPTION)  # type: ignore[valid-type]
    name: bpy.props.StringProperty(name="Name", description="The new name")  # type: ignore[valid-type]

    def invoke(self, context: bpy.types.Context, event: bpy.types.Event) -> set[str]:
        del event
        person = active_person(context) if not self.person else bpy.data.objects.get(self.person)
        if person is not None:
            self.person, self.name = person.name, person.name
        return context.window_manager.invoke_props_dialog(self)

    def act(self, context: bpy.types.Context) -> str:
        person = _person(context, self.person)
        old = person.name
        edit_bpy.rename_person(person, self.name)
        return f"Renamed {old} to {person.name}"


class CROWDMOCAP_OT_person_isolate(_PersonOperator):  # noqa: N801
    """Show only this person of their capture (Show All brings the others back)"""

    bl_idname = "crowdmocap.person_isolate"
    bl_label = "Isolate Person"
    bl_options = {"REGISTER"}  # noqa: RUF012 (viewport visibility, like the eye icon: not an undo step)
    person: bpy.props.StringProperty(**_PERSON_OPTION)  # type: ignore[valid-type]

    def act(self, context: bpy.types.Context) -> str:
        person = _person(context, self.person)
        edit_bpy.isolate(person)
        return f"Showing only {person.name}"


class CROWDMOCAP_OT_person_hide(_PersonOperator):  # noqa: N801
    """Hide the person in the viewport (or show them again)"""

    bl_idname = "crowdmocap.person_hide"
    bl_label = "Hide Person"
    bl_options = {"REGISTER"}  # noqa: RUF012
    person: bpy.props.StringProperty(**_PERSON_OPTION)  # type: ignore[valid-type]
    hidden: bpy.props.BoolProperty(name="Hidden", default=True)  # type: ignore[valid-type]

    def act(self, context: bpy.types.Context) -> str:
        person = _person(context, self.person)
        edit_bpy.set_hidden([person], self.hidden)
        return f"{'Hid' if self.hidden else 'Showed'} {person.name}"


class CROWDMOCAP_OT_people_show_all(_PersonOperator):  # noqa: N801
    """Show every person of the listed capture"""

    bl_idname = "crowdmocap.people_show_all"
    bl_label = "Show All People"
    bl_options = {"REGISTER"}  # noqa: RUF012

    def act(self, context: bpy.types.Context) -> str:
        capture = shown_capture(context)
        if capture is None:
            raise PersonEditError("there is no capture in this file")
        people = people_of(capture)
        edit_bpy.set_hidden(people, False)
        return f"Showing all {len(people)} people"


class CROWDMOCAP_OT_person_jump_flag(_PersonOperator):  # noqa: N801
    """Go to the person's next (or previous) flagged stretch: filled in, repaired or implausible frames"""

    bl_idname = "crowdmocap.person_jump_flag"
    bl_label = "Jump to Flagged Frame"
    bl_options = {"REGISTER"}  # noqa: RUF012 (moves the playhead only)
    person: bpy.props.StringProperty(**_PERSON_OPTION)  # type: ignore[valid-type]
    previous: bpy.props.BoolProperty(name="Previous", default=False)  # type: ignore[valid-type]

    def act(self, context: bpy.types.Context) -> str:
        person = _person(context, self.person)
        frame = edit_bpy.jump_to_flag(context, person, forward=not self.previous)
        if frame is None:
            raise PersonEditError(
                f"{person.name} has no flagged frame {'before' if self.previous else 'after'} this one"
            )
        return f"{person.name}: flagged from frame {frame}"


CLASSES = (
    CROWDMOCAP_OT_person_delete,
    CROWDMOCAP_OT_people_merge,
    CROWDMOCAP_OT_person_split,
    CROWDMOCAP_OT_person_rename,
    CROWDMOCAP_OT_person_isolate,
    CROWDMOCAP_OT_person_hide,
    CROWDMOCAP_OT_people_show_all,
    CROWDMOCAP_OT_person_jump_flag,
)
