from tests.crowdmocap_addon.scene.conftest import bpy_empty  # noqa: F401 (shared fixture)
