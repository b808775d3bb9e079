"""The SMPL body on torch (through smplx), for the estimators that need differentiable, batched bodies."""
