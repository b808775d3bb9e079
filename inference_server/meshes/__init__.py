"""Per-person 3D bodies (SMPL parameters) from crops and 2D poses: the "meshes" stage of the pipeline."""
