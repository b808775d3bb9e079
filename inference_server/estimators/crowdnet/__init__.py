"""3DCrowdNet (Choi et al., CVPR 2022), re-implemented to load the authors' released checkpoint.

joint_sets -> preprocess -> network (backbone, heads, vposer) -> camera -> predictor; checkpoint loads
the official files strictly; multi_roi adds the Multi-RoI test-time option.
"""
