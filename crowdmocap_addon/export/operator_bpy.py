"""The "Export crowd" operator (also in File › Export): the selected people, or every person of the scene."""

from __future__ import annotations

from pathlib import Path

import bpy
from bpy_extras.io_utils import ExportHelper

from ..core.options import EXPORT_OPTIONS
from ..option_props_bpy import option_property
from .export_bpy import armatures_in_scope, export_people
from .presets import PRESETS, BvhExportError, find_preset
from .scope import ExportScopeError

_SCOPE_ITEMS = [
    ("auto", "Auto", "The retargeted characters when there are any, else the captured people"),
    ("retargeted", "Retargeted", "The characters retargets animated"),
    ("captured", "Captured", "The people CrowdMocap imported (SMPL skeletons)"),
    ("all", "All armatures", "Every armature, template rigs too"),
]
_PRESET_ITEMS = [(p.name, p.name.capitalize() if p.name != "bvh" else "BVH", p.description) for p in PRESETS.values()]


class CROWDMOCAP_OT_export_crowd(bpy.types.Operator, ExportHelper):  # noqa: N801 (Blender's naming)
    """Export people for a game engine or mocap tool: one file per person or one for the whole crowd"""

    bl_idname = "crowdmocap.export_crowd"
    bl_label = "Export Crowd"

    filename_ext = ""
    use_filter_folder = True
    preset: bpy.props.EnumProperty(name="Preset", items=_PRESET_ITEMS, default="unity")  # type: ignore[valid-type]
    per_person: bpy.props.BoolProperty(name="One file per person", default=True)  # type: ignore[valid-type]
    include_mesh: bpy.props.BoolProperty(name="Include meshes", default=True)  # type: ignore[valid-type]
    selected_only: bpy.props.BoolProperty(  # type: ignore[valid-type]
        name="Selected only", default=False, description="Only the selected armatures in the scope"
    )
    scope: option_property(EXPORT_OPTIONS["scope"], items=_SCOPE_ITEMS)  # type: ignore[valid-type]
    start_at_origin: option_property(EXPORT_OPTIONS["start_at_origin"])  # type: ignore[valid-type]

    def execute(self, context: bpy.types.Context) -> set[str]:
        objects = context.selected_objects if self.selected_only else context.scene.objects
        try:
            people = armatures_in_scope(objects, self.scope)
        except ExportScopeError as exc:
            self.report({"ERROR"}, f"Nothing to export: {exc}")
            return {"CANCELLED"}
        folder = Path(bpy.path.abspath(self.filepath))
        folder = folder if folder.is_dir() or not folder.suffix else folder.parent
        name = Path(bpy.data.filepath).stem or "crowdmocap"
        window_manager = context.window_manager
        window_manager.progress_begin(0, len(people))
        try:
            files = export_people(context, people, find_preset(self.preset), folder, capture_name=name,
                                  per_person=self.per_person, include_mesh=self.include_mesh,
                                  start_at_origin=self.start_at_origin,
                                  progress=lambda done, total, path: window_manager.progress_update(done))  # fmt: skip
        except (BvhExportError, RuntimeError, OSError) as exc:
            self.report({"ERROR"}, f"Export failed: {exc}")
            return {"CANCELLED"}
        finally:
            window_manager.progress_end()
        self.report({"INFO"}, f"Exported {len(files)} file(s) to {folder}")
        return {"FINISHED"}


def _menu_entry(self: bpy.types.Menu, context: bpy.types.Context) -> None:
    self.layout.operator(CROWDMOCAP_OT_export_crowd.bl_idname, text="CrowdMocap crowd (FBX/glTF/BVH)")


def register() -> None:
    bpy.utils.register_class(CROWDMOCAP_OT_export_crowd)
    bpy.types.TOPBAR_MT_file_export.append(_menu_entry)


def unregister() -> None:
    bpy.types.TOPBAR_MT_file_export.remove(_menu_entry)
    bpy.utils.unregister_class(CROWDMOCAP_OT_export_crowd)
