"""The weights-free estimator: SMPL fitted to BlazePose's 3D world landmarks, placed by the 2D keypoints.

``bone_fit`` measures the person's bones (and fits SMPL's shape to them), ``solve`` turns a track's
landmarks into joint rotations and translations (all frames at once), ``track`` does a whole track and
fills what is unseen.
"""
