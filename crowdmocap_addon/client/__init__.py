"""Talking to the CrowdMocap server from Blender: plain-Python HTTP and a background capture job (no bpy)."""
