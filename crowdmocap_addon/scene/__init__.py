"""A CrowdMocap result as a Blender scene: one collection, an armature per person, one camera.

The maths (axes, keyframe arrays, camera parameters, body meshes) lives in bpy-free modules tested with
plain pytest; only the ``*_bpy.py`` modules touch Blender. Conventions: docs/blender-scene.md.
"""
