"""A virtual camera over real footage: every output frame is a known homography of a real frame, so the
camera's turn and zoom are exact ground truth while the pixels (people walking, codec noise) are real.

``write_virtual_clip`` encodes what the virtual camera sees; ``VirtualPoses`` replays the source clip's
recorded 2D poses as that camera would see them (keypoints and boxes moved by the same homography,
BlazePose's camera-axis world landmarks turned with the camera), so a capture of the virtual clip can be
compared with a capture of the still original.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import av
import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from inference_server.camera_motion.rotation import intrinsics
from inference_server.poses2d.types import FramePoses
from tests.helpers.recorded_poses import Recording


@dataclass(frozen=True)
class VirtualCamera:
    """Frame t sees the source frame t through ``K_t R_t K_source^-1`` (same image size and centre)."""

    rotations: np.ndarray  # (T, 3, 3) source camera -> virtual camera at frame t
    focals: np.ndarray  # (T,) pixels
    source_focal: float
    size: tuple[int, int]  # width, height of source and output

    def homography(self, t: int) -> np.ndarray:
        centre = (self.size[0] / 2, self.size[1] / 2)
        source = np.linalg.inv(intrinsics(self.source_focal, centre))
        return intrinsics(float(self.focals[t]), centre) @ self.rotations[t] @ source


def eased_move(count: int, size: tuple[int, int], source_focal: float, *, pan: float, tilt: float, roll: float,
               zoom: float) -> VirtualCamera:  # fmt: skip
    """A camera that starts as the source camera and eases (smoothstep) into a pan/tilt/roll in degrees,
    its focal length multiplied by ``zoom`` by the end."""
    t = np.linspace(0.0, 1.0, count)
    ease = t * t * (3.0 - 2.0 * t)
    angles = np.stack([pan * ease, tilt * ease, roll * ease], axis=1)
    rotations = Rotation.from_euler("yxz", angles, degrees=True).as_matrix()
    return VirtualCamera(rotations, source_focal * zoom**ease, float(source_focal), size)


def write_virtual_clip(source: Path, camera: VirtualCamera, out_path: Path) -> Path:
    """Encode the source clip as the virtual camera sees it (H.264, near lossless, the source's rate)."""
    with av.open(str(source)) as clip, av.open(str(out_path), "w") as out:
        stream_in = clip.streams.video[0]
        stream = out.add_stream("libx264", rate=stream_in.average_rate)
        stream.width, stream.height = camera.size
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "12", "preset": "veryfast"}
        for t, frame in enumerate(clip.decode(video=0)):
            if t >= len(camera.focals):
                break
            image = cv2.warpPerspective(frame.to_ndarray(format="rgb24"), camera.homography(t), camera.size,
                                        flags=cv2.INTER_LINEAR)  # fmt: skip
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
    return out_path


def moved_keypoints(homography: np.ndarray, points: np.ndarray) -> np.ndarray:
    """(K, 2) pixels moved by the homography."""
    moved = np.concatenate([points, np.ones((len(points), 1))], axis=1) @ homography.T
    return moved[:, :2] / moved[:, 2:]


class VirtualPoses:
    """A pose backend answering frame t of the virtual clip with the source's recorded poses as the virtual
    camera sees them: people whose box centre leaves the view are not seen, keypoints outside it lose
    their confidence."""

    name = "blazepose-topdown"

    def __init__(self, recording: Recording, camera: VirtualCamera) -> None:
        self.recording, self.camera = recording, camera

    def __call__(self, image: np.ndarray, index: int = 0, time: float = 0.0) -> FramePoses:
        h, (width, height) = self.camera.homography(index), self.camera.size
        people = []
        for person in self.recording.frames[index].people:
            keypoints = np.array(person.keypoints, dtype=np.float64)
            keypoints[:, :2] = moved_keypoints(h, keypoints[:, :2])
            x, y = keypoints[:, 0], keypoints[:, 1]
            keypoints[:, 2] = np.where((x >= 0) & (x < width) & (y >= 0) & (y < height), keypoints[:, 2], 0.0)
            x0, y0, x1, y1 = person.box
            corners = moved_keypoints(h, np.array([[x0, y0], [x1, y0], [x0, y1], [x1, y1]], dtype=np.float64))
            box = np.concatenate([corners.min(axis=0), corners.max(axis=0)])
            centre = (box[:2] + box[2:]) / 2
            if not (0 <= centre[0] < width and 0 <= centre[1] < height):
                continue
            world = None if person.world_landmarks is None else person.world_landmarks @ self.camera.rotations[index].T
            people.append(replace(person, keypoints=keypoints, box=box, world_landmarks=world))
        return FramePoses(index, time, people)

    def factory(self, plan=None) -> VirtualPoses:
        return self

    def close(self) -> None:
        pass
