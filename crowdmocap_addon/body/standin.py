"""CrowdMocap's own rest skeleton, used when no SMPL model file is available.

A ~1.7 m adult in SMPL's rest frame and joint order (metres, y up, facing +z, the person's left at +x),
standing in a T-pose with the feet on y = 0. Its proportions follow SMPL's mean shape closely enough for
retargeting and previews; results made with it say ``body_model.kind = "standin"``.
"""

from __future__ import annotations

import numpy as np

STANDIN_REST_JOINTS = np.array([
    [0.000, 0.930, 0.000], [0.060, 0.840, 0.000], [-0.060, 0.840, 0.000], [0.000, 1.040, -0.010],
    [0.100, 0.470, 0.005], [-0.100, 0.470, 0.005], [0.000, 1.170, 0.010], [0.090, 0.080, -0.030],
    [-0.090, 0.080, -0.030], [0.000, 1.225, 0.015], [0.110, 0.020, 0.090], [-0.110, 0.020, 0.090],
    [0.000, 1.440, -0.020], [0.075, 1.350, -0.010], [-0.075, 1.350, -0.010], [0.000, 1.530, 0.030],
    [0.170, 1.380, -0.020], [-0.170, 1.380, -0.020], [0.430, 1.370, -0.040], [-0.430, 1.370, -0.040],
    [0.680, 1.380, -0.040], [-0.680, 1.380, -0.040], [0.760, 1.375, -0.050], [-0.760, 1.375, -0.050],
])  # fmt: skip
STANDIN_REST_JOINTS.flags.writeable = False
