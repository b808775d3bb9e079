"""The animator's clean-up of a captured crowd: the People list, and edits that keep the scene's record true.

``motion`` is the pure maths (a person's keyed motion, its summary, flagged stretches, merge and split);
the ``*_bpy`` modules read and write it in the scene, and the operators and panel are thin glue on them.
"""
