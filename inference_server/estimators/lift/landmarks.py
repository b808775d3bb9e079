"""BlazePose's 33 landmarks: the indices the lift reads, and which SMPL joints they (and COCO's) observe."""

from __future__ import annotations

from crowdmocap_addon.core.joints import SMPL_TO_COCO

NOSE, L_EAR, R_EAR = 0, 7, 8
L_SHOULDER, R_SHOULDER, L_ELBOW, R_ELBOW, L_WRIST, R_WRIST = 11, 12, 13, 14, 15, 16
L_PINKY, R_PINKY, L_INDEX, R_INDEX = 17, 18, 19, 20
L_HIP, R_HIP, L_KNEE, R_KNEE, L_ANKLE, R_ANKLE = 23, 24, 25, 26, 27, 28
L_HEEL, R_HEEL, L_FOOT_INDEX, R_FOOT_INDEX = 29, 30, 31, 32


# SMPL joints the landmarks observe directly (for the translation fit): joint -> landmark
OBSERVED = {1: L_HIP, 2: R_HIP, 4: L_KNEE, 5: R_KNEE, 7: L_ANKLE, 8: R_ANKLE, 16: L_SHOULDER, 17: R_SHOULDER,
            18: L_ELBOW, 19: R_ELBOW, 20: L_WRIST, 21: R_WRIST}  # fmt: skip
# the same joints' COCO-17 keypoint indices, for the 2D reprojection fit
OBSERVED_COCO = SMPL_TO_COCO
