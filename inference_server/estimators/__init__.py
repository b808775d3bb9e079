"""Per-person 3D estimates (SMPL parameters in the full-image camera) from tracks: one sub-package each.

``crowdnet`` runs 3DCrowdNet on each person's crops with their 2D pose; ``lift`` fits SMPL to BlazePose's
3D world landmarks without any weights. Both hand ``PersonMotion`` to the motion clean-up.
"""
