"""CrowdMocap inference server: footage -> 2D poses -> tracks -> SMPL meshes -> result file.

Heavy dependencies (torch, smplx, FastAPI) are imported by the modules that need them, never here,
so reading or writing results stays cheap.
"""

__version__ = "0.1.0"
