"""Retarget CrowdMocap people onto game rigs: bone maps, rest-pose aware transfer, foot pinning, baking.

The maths (``presets``, ``armature``, ``transforms``, ``transfer``, ``channels``; foot pinning is
``core.legs``) is bpy-free and tested with plain pytest; only the ``*_bpy.py`` modules touch Blender.
"""
