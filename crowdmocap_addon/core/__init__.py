"""The pure core both halves share: the SMPL body, the result contract, geometry and joint groups.

Standard library and NumPy only, never bpy, mathutils, torch or anything else from the add-on: the
Blender extension ships alone, and the inference server imports the add-on through this package and
nowhere else (tests/test_import_boundaries.py holds both rules).
"""
