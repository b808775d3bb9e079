"""From per-frame 3D to animation-grade motion: smoothing, one shape per person, the floor, foot contacts."""
