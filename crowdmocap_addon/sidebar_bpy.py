"""Where CrowdMocap's UI lives: one tab in the 3D Viewport's sidebar, a main panel and its sub-panels.

Mix-ins rather than panels: Blender reads these ``bl_*`` attributes from a panel class's bases.
"""

from __future__ import annotations

MAIN_PANEL = "VIEW3D_PT_crowdmocap"


class SidebarPanel:
    bl_space_type = "VIEW_3D"
    bl_region_type = "UI"
    bl_category = "CrowdMocap"


class SidebarSubPanel(SidebarPanel):
    """A section under the main CrowdMocap panel (People, Retarget)."""

    bl_parent_id = MAIN_PANEL
