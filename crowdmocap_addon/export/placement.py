"""Where an exported clip starts (pure): at the origin facing forward, for a game engine's character.

An engine plays a clip from the character's own position: hips that start 20 m away and facing sideways
make every instance jump and turn on its first frame. The move is one rigid turn about the vertical
(world Z) and a shift along the floor, applied to the armature object while exporting, so the motion
itself, the hip height and every bone's relation to the others are exactly kept.
"""

from __future__ import annotations

import numpy as np


def yaw_about_z(rotation: np.ndarray) -> float:
    """The heading (radians about world Z) of a 3x3 rotation: where it turns the forward axis (-Y, Blender's
    front) on the floor. A body bent forward keeps its heading; a forward axis pointing straight up or down
    falls back to the turned X axis."""
    forward = rotation @ np.array([0.0, -1.0, 0.0])
    if np.hypot(forward[0], forward[1]) < 1e-6:
        side = rotation @ np.array([1.0, 0.0, 0.0])
        return float(np.arctan2(side[1], side[0]))
    return float(np.arctan2(forward[0], -forward[1]))


def start_transform(hips_posed: np.ndarray, hips_rest: np.ndarray) -> np.ndarray:
    """4x4 world transform that puts the hips' first frame over the origin, facing as the rig does at rest.

    ``hips_posed`` is the hips bone's world matrix at the clip's first frame, ``hips_rest`` at rest (both
    4x4). Their difference in heading is undone (a rig that faces +Y at rest, as some do, keeps facing +Y);
    the hips' height is kept.
    """
    posed, rest = np.asarray(hips_posed, dtype=np.float64), np.asarray(hips_rest, dtype=np.float64)
    turn = yaw_about_z(_rotation(posed[:3, :3]) @ _rotation(rest[:3, :3]).T)
    c, s = np.cos(-turn), np.sin(-turn)
    out = np.eye(4)
    out[:3, :3] = [[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]
    hips = posed[:3, 3]
    out[:3, 3] = -(out[:3, :3] @ np.array([hips[0], hips[1], 0.0]))
    return out


def _rotation(matrix: np.ndarray) -> np.ndarray:
    u, _, vt = np.linalg.svd(matrix)  # an object's scale is not a turn
    return u @ vt
