"""3D Viewport › Sidebar › CrowdMocap › People: every person of a capture, how good they are, clean-up tools."""

from __future__ import annotations

import bpy

from ..scene.record import PERSON_NUMBER, PERSON_TRACKS, stored_summary
from ..sidebar_bpy import SidebarSubPanel
from .operators_bpy import (
    CROWDMOCAP_OT_people_merge,
    CROWDMOCAP_OT_people_show_all,
    CROWDMOCAP_OT_person_delete,
    CROWDMOCAP_OT_person_isolate,
    CROWDMOCAP_OT_person_jump_flag,
    CROWDMOCAP_OT_person_rename,
    CROWDMOCAP_OT_person_split,
)
from .record_bpy import is_person
from .state_bpy import active_person, shown_capture

_SORT_ITEMS = [
    ("NUMBER", "Appearance", "In order of appearance (their numbers)"),
    ("FLAGGED", "Flagged", "Most flagged frames first"),
    ("CONFIDENCE", "Confidence", "Least confident first"),
    ("OBSERVED", "Observed", "Least observed first"),
]


def _sort_key(obj: bpy.types.Object, by: str) -> float:
    summary = stored_summary(obj)
    if by == "NUMBER" or summary is None:
        return float(obj.get(PERSON_NUMBER, 0))
    return {"FLAGGED": -summary.flagged, "CONFIDENCE": summary.mean_confidence,
            "OBSERVED": summary.observed_share}[by]  # fmt: skip


class CROWDMOCAP_UL_people(bpy.types.UIList):  # noqa: N801 (Blender's naming)
    """One row per person: number and name, frames, observed share, confidence, flagged frames."""

    sort_by: bpy.props.EnumProperty(name="Sort by", items=_SORT_ITEMS, default="NUMBER")  # type: ignore[valid-type]
    only_flagged: bpy.props.BoolProperty(name="Only flagged", default=False,  # type: ignore[valid-type]
                                         description="List only people with flagged frames")  # fmt: skip

    def draw_item(self, context, layout, data, item, icon, active_data, active_propname, index=0) -> None:  # noqa: PLR0917
        del context, data, icon, active_data, active_propname, index
        summary = stored_summary(item)
        row = layout.row(align=True)
        split = row.split(factor=0.5)
        split.label(text=item.name, icon="HIDE_ON" if item.hide_get() else "ARMATURE_DATA")
        if summary is None:
            split.label(text="(no motion)")
            return
        figures = split.row(align=True)
        figures.label(text=f"{summary.first}–{summary.last}")
        figures.label(text=f"{100 * summary.observed_share:.0f}% {summary.mean_confidence:.2f}")
        figures.label(text=str(summary.flagged), icon="ERROR" if summary.flagged else "CHECKMARK")

    def draw_filter(self, context, layout) -> None:
        del context
        row = layout.row(align=True)
        row.prop(self, "filter_name", text="")
        row.prop(self, "only_flagged", text="", icon="ERROR")
        layout.prop(self, "sort_by", expand=True)

    def filter_items(self, context, data, propname):
        del context
        objects = getattr(data, propname)
        needle = self.filter_name.lower()
        flags = []
        for obj in objects:
            shown = is_person(obj) and (not needle or needle in obj.name.lower())
            if shown and self.only_flagged:
                summary = stored_summary(obj)
                shown = summary is not None and summary.flagged > 0
            flags.append(self.bitflag_filter_item if shown else 0)
        ranked = sorted(range(len(objects)), key=lambda i: (not flags[i], _sort_key(objects[i], self.sort_by)
                                                             if flags[i] else 0.0, objects[i].name))  # fmt: skip
        order = [0] * len(objects)
        for position, index in enumerate(ranked):
            order[index] = position
        return flags, order


class VIEW3D_PT_crowdmocap_people(SidebarSubPanel, bpy.types.Panel):  # noqa: N801
    bl_label = "People"

    def draw(self, context: bpy.types.Context) -> None:
        layout = self.layout
        state = context.scene.crowdmocap_people
        capture = shown_capture(context)
        layout.prop(state, "capture")
        if capture is None:
            layout.label(text="Capture or import footage to list its people", icon="INFO")
            return
        row = layout.row()
        row.template_list("CROWDMOCAP_UL_people", "", capture, "objects", state, "active_index", rows=6)
        tools = row.column(align=True)
        tools.operator(CROWDMOCAP_OT_person_rename.bl_idname, text="", icon="GREASEPENCIL")
        tools.operator(CROWDMOCAP_OT_person_delete.bl_idname, text="", icon="X")
        tools.separator()
        tools.operator(CROWDMOCAP_OT_person_isolate.bl_idname, text="", icon="SOLO_ON")
        tools.operator(CROWDMOCAP_OT_people_show_all.bl_idname, text="", icon="HIDE_OFF")

        row = layout.row(align=True)
        row.operator(CROWDMOCAP_OT_people_merge.bl_idname, text="Merge Selected", icon="AUTOMERGE_ON")
        row.operator(CROWDMOCAP_OT_person_split.bl_idname, text="Split", icon="MOD_EDGESPLIT")
        person = active_person(context)
        if person is None:
            return
        summary = stored_summary(person)
        box = layout.box()
        box.label(text=f"{person.name} (result id {person.get(PERSON_TRACKS, '?')})", icon="ARMATURE_DATA")
        if summary is not None:
            box.label(text=f"Frames {summary.first}–{summary.last}: {summary.frames}, "
                           f"{100 * summary.observed_share:.0f}% observed")  # fmt: skip
            box.label(text=f"Confidence {summary.mean_confidence:.2f}, {summary.flagged} flagged frames")
        row = box.row(align=True)
        row.operator(CROWDMOCAP_OT_person_jump_flag.bl_idname, text="Previous", icon="TRIA_LEFT").previous = True
        row.operator(CROWDMOCAP_OT_person_jump_flag.bl_idname, text="Next Flagged", icon="TRIA_RIGHT").previous = False


CLASSES = (CROWDMOCAP_UL_people, VIEW3D_PT_crowdmocap_people)
