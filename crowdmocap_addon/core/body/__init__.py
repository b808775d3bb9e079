"""The SMPL body as plain NumPy: the joint tree, rotations, forward kinematics, model files.

Nothing here imports bpy or torch, so the server, the add-on inside Blender and the tests share it.
"""
