"""The People tools' workers: delete, merge, split, rename, hide and isolate, select, flagged frames.

Operators and tests call these. Each edit is all or nothing (``transaction``: a failure removes what it
made and puts the old action back) and leaves the scene's record up to date: the armatures, their
actions, numbers and People-list rows are what retargeting and export then see.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import bpy
import numpy as np

from ..scene.animation_bpy import animate_person
from ..scene.colours import person_colour
from ..scene.mesh_bpy import paint
from ..scene.names import action_name, body_name, material_name, person_name
from ..scene.record import PERSON_CAPTURE, PERSON_ID, PERSON_NUMBER, PERSON_TRACKS, store_summary
from ..scene.transaction_bpy import CreatedData, leave_edit_modes, transaction
from .motion import PersonEditError, PersonMotion, flag_runs, merge, next_flagged_frame, split, summarise
from .record_bpy import body_of, capture_of, is_person, people_of, read_motion, rest_pelvis

MARKER_PREFIX = "\u2691 "  # ⚑: the timeline markers the People list owns (and replaces)
_MATRIX_TOLERANCE = 1e-6


def _check_person(obj: bpy.types.Object | None) -> bpy.types.Object:
    if not is_person(obj):
        name = getattr(obj, "name", None)
        raise PersonEditError(f"'{name}' is not a CrowdMocap person" if name else "no CrowdMocap person given")
    return obj


def _family(person: bpy.types.Object) -> list[bpy.types.ID]:
    """Every datablock that is this person alone: objects, their data, action and material."""
    body = body_of(person)
    ids: list[bpy.types.ID] = [person, person.data]
    if body is not None:
        ids += [body, body.data, *(m for m in body.data.materials if m is not None and m.users <= 1)]
    animation = person.animation_data
    if animation is not None and animation.action is not None:
        ids.append(animation.action)
    return ids


@contextmanager
def _replacing_action(person: bpy.types.Object) -> Iterator[None]:
    """Move the person's action out of the way of its successor; delete it on success, restore it on failure."""
    body = body_of(person)
    owners = [obj for obj in (person, body) if obj is not None and obj.animation_data is not None]
    assigned = [(obj, obj.animation_data.action, obj.animation_data.action_slot) for obj in owners]
    old = person.animation_data.action if person.animation_data is not None else None
    old_name = old.name if old is not None else ""
    if old is not None:
        old.name = f"{old_name}~replaced"
    try:
        yield
    except BaseException:
        if old is not None:
            old.name = old_name
        for obj, action, slot in assigned:
            obj.animation_data.action = action
            if action is not None and slot is not None:
                obj.animation_data.action_slot = slot
        raise
    if old is not None and old.users == 0:
        bpy.data.actions.remove(old)


def rekey(person: bpy.types.Object, motion: PersonMotion, created: CreatedData) -> bpy.types.Action:
    """Replace the person's animation by ``motion`` and update their People-list row."""
    with _replacing_action(person):
        action = animate_person(person, body_of(person), motion, created)
    store_summary(person, summarise(motion))
    return action


def delete_person(context: bpy.types.Context, person: bpy.types.Object) -> str:
    """Remove the person with their body, action and material; returns the name they had."""
    _check_person(person)
    leave_edit_modes(context)
    name = person.name
    bpy.data.batch_remove(_family(person))
    return name


def _same_space(first: bpy.types.Object, second: bpy.types.Object) -> None:
    difference = np.abs(np.array(first.matrix_world) - np.array(second.matrix_world)).max()
    if difference > _MATRIX_TOLERANCE:
        raise PersonEditError(
            f"'{first.name}' and '{second.name}' have been moved apart (their objects' transforms differ): "
            "put them back (Alt+G, Alt+R) before merging; their motion is on the pelvis bone"
        )


def merge_people(context: bpy.types.Context, first: bpy.types.Object, second: bpy.types.Object) -> bpy.types.Object:
    """One person from two fragments of one: whoever appears first continues as the other.

    The one kept is the earlier one (its name, number, body and colour); the gap between them is bridged
    and flagged filled; the other is deleted. Refused (PersonEditError) for two people of different
    captures, or two who are seen at the same time beyond a handover frame.
    """
    for obj in (first, second):
        _check_person(obj)
    if first == second:
        raise PersonEditError(f"'{first.name}' cannot be merged with itself: pick two people")
    if capture_of(first) is None or capture_of(first) != capture_of(second):
        raise PersonEditError(f"'{first.name}' and '{second.name}' belong to different captures")
    _same_space(first, second)
    motions = {obj: read_motion(obj) for obj in (first, second)}
    keep, drop = sorted((first, second), key=lambda obj: (motions[obj].first, obj.get(PERSON_NUMBER, 0)))
    merged = merge(motions[keep], motions[drop], rest_pelvis(drop) - rest_pelvis(keep))
    leave_edit_modes(context)
    with transaction(context) as created:
        rekey(keep, merged, created)
        keep[PERSON_TRACKS] = f"{keep.get(PERSON_TRACKS, keep[PERSON_ID])}+{drop.get(PERSON_TRACKS, drop[PERSON_ID])}"
    bpy.data.batch_remove(_family(drop))
    return keep


def _next_number(person: bpy.types.Object) -> int:
    capture = capture_of(person)
    people = people_of(capture) if capture is not None else [person]
    return max(int(p.get(PERSON_NUMBER, 0)) for p in people) + 1


def _copy_person(person: bpy.types.Object, number: int, created: CreatedData) -> bpy.types.Object:
    """A new person with the same skeleton and body, numbered ``number``, in the same collections."""
    name = person_name(str(person[PERSON_CAPTURE]), number)
    if bpy.data.objects.get(name) is not None:
        raise PersonEditError(f"the name '{name}' is taken by another object: rename it first")
    twin = created.add(person.copy())
    twin.data = created.add(person.data.copy())
    twin.name = twin.data.name = name
    twin[PERSON_NUMBER] = number
    for collection in person.users_collection:
        collection.objects.link(twin)
    body = body_of(person)
    if body is not None:
        twin_body = created.add(body.copy())
        twin_body.data = created.add(body.data.copy())
        twin_body.name = twin_body.data.name = body_name(name)
        for collection in body.users_collection:
            collection.objects.link(twin_body)
        twin_body.parent = twin
        twin_body.matrix_parent_inverse.identity()
        for modifier in twin_body.modifiers:
            if modifier.type == "ARMATURE" and modifier.object == person:
                modifier.object = twin
        paint(twin, twin_body, person_colour(number), created)
    return twin


def split_person(context: bpy.types.Context, person: bpy.types.Object, frame: int) -> bpy.types.Object:
    """Cut the person in two at scene ``frame``: they keep the frames before it, a new person (the next
    free number, their own colour) gets ``frame`` on. Returns the new person."""
    _check_person(person)
    before, after = split(read_motion(person), frame)
    leave_edit_modes(context)
    with transaction(context) as created:
        twin = _copy_person(person, _next_number(person), created)
        animate_person(twin, body_of(twin), after, created)  # first: the copies still hold the old action
        store_summary(twin, summarise(after))
        rekey(person, before, created)
    return twin


def rename_person(person: bpy.types.Object, name: str) -> None:
    """Rename the person and everything that is theirs alone (armature data, body, action, material)."""
    _check_person(person)
    name = name.strip()
    if not name:
        raise PersonEditError("a person's name cannot be empty")
    if name == person.name:
        return
    taken = [n for n in (name, body_name(name)) if bpy.data.objects.get(n) is not None]
    if taken:
        raise PersonEditError(f"the name '{taken[0]}' is taken by another object")
    body = body_of(person)
    person.name = person.data.name = name
    action = person.animation_data.action if person.animation_data is not None else None
    if action is not None and action.users <= 2:  # the person's own (armature and body)
        action.name = action_name(name)
    if body is not None:
        body.name = body.data.name = body_name(name)
        for material in body.data.materials:
            if material is not None and material.users <= 1:
                material.name = material_name(name)


def set_hidden(people: list[bpy.types.Object], hidden: bool) -> None:
    """Hide or show people (and their bodies) in the viewport, as the eye icon does; their keys are untouched."""
    for person in people:
        for obj in (person, body_of(person)):
            if obj is not None:
                obj.hide_set(hidden)


def isolate(person: bpy.types.Object) -> None:
    """Show only ``person`` of their capture."""
    capture = capture_of(_check_person(person))
    others = [p for p in people_of(capture) if p != person] if capture is not None else []
    set_hidden(others, True)
    set_hidden([person], False)


def show_flags(scene: bpy.types.Scene, person: bpy.types.Object | None) -> int:
    """Timeline markers at the start of each of the person's flagged stretches (replacing the last
    person's); returns how many. None clears them."""
    for marker in [m for m in scene.timeline_markers if m.name.startswith(MARKER_PREFIX)]:
        scene.timeline_markers.remove(marker)
    if person is None:
        return 0
    runs = flag_runs(read_motion(person))
    for run in runs:
        scene.timeline_markers.new(f"{MARKER_PREFIX}{run.kind} {run.frames}", frame=run.first)
    return len(runs)


def focus(context: bpy.types.Context, person: bpy.types.Object) -> None:
    """Go to the person's first frame, select them (and only them) and make them active."""
    _check_person(person)
    motion = read_motion(person)
    context.scene.frame_set(motion.first)
    for obj in context.view_layer.objects.selected:
        obj.select_set(False)
    for obj in (person, body_of(person)):
        if obj is not None and obj.name in context.view_layer.objects:
            obj.hide_set(False)
            obj.select_set(True)
    context.view_layer.objects.active = person


def jump_to_flag(context: bpy.types.Context, person: bpy.types.Object, forward: bool = True) -> int | None:
    """Move the playhead to the person's next (previous) flagged stretch; None when there is none."""
    frame = next_flagged_frame(read_motion(_check_person(person)), context.scene.frame_current, forward)
    if frame is not None:
        context.scene.frame_set(frame)
    return frame
