"""A hand-held camera walking past a few people on a textured street, rendered in Blender, with exact truth.

The floor (40 m square) and three far walls carry a multi-scale noise texture, so the background has
corners at every distance; five stand-in people (1.75 m boxes) walk straight lines over it. The camera
walks forward and sideways at about 1 m/s, 1.6 m up, swaying a few centimetres, and pans and tilts a
little on the way: parallax that no turn-and-zoom camera explains. Rendered with Workbench (textures,
flat light: no sampling noise), each frame a PNG.

Truth is in the capture's world (the first frame's camera, OpenCV axes): every frame's camera rotation
``R_t`` and centre ``c_t`` (``X_t = R_t (X - c_t)``), each person's box in every frame, their feet and
their pelvis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

SIZE = (480, 360)
FPS = 25.0
LENS_MM, SENSOR_MM = 24.0, 36.0  # a 74 degree horizontal field of view
PEOPLE = (  # start (x, y) on the floor, Blender axes, and velocity (m/s)
    ((-2.0, 8.0), (0.6, -0.2)), ((1.5, 10.0), (-0.5, 0.1)), ((3.0, 14.0), (-0.3, -0.6)),
    ((-3.5, 13.0), (0.7, 0.3)), ((0.5, 6.5), (0.2, 0.5)),
)  # fmt: skip
PERSON_SIZE = (0.45, 0.3, 1.75)  # width, depth, height in metres
PELVIS_HEIGHT = 0.95
OPENCV_TO_BLENDER_CAMERA = np.diag([1.0, -1.0, -1.0])


@dataclass(frozen=True, kw_only=True)
class HandheldTruth:
    frames: list[Path]  # the rendered PNGs, in order
    focal_px: float
    rotations: np.ndarray  # (T, 3, 3) world -> frame t camera
    centres: np.ndarray  # (T, 3) camera centres in the world, metres
    boxes: np.ndarray  # (T, P, 4) each person's box in each frame (pixels)
    feet: np.ndarray  # (T, P, 3) the floor point under each person, world
    pelvis: np.ndarray  # (T, P, 3) each person's pelvis, world

    def in_camera(self, points: np.ndarray) -> np.ndarray:
        """(T, P, 3) world points -> each frame's camera."""
        return np.einsum("tij,tpj->tpi", self.rotations, points - self.centres[:, None])


def _noise_texture(size: int, seed: int) -> np.ndarray:
    """(size, size, 4) float RGBA: octaves of blocky noise, contrast enough for corners at any distance."""
    rng = np.random.default_rng(seed)
    image = np.zeros((size, size))
    for octave in range(3, 9):
        cells = 2**octave
        grid = rng.uniform(-1.0, 1.0, (cells, cells))
        image += np.kron(grid, np.ones((size // cells, size // cells))) / (1.0 + 0.3 * (8 - octave))
    grey = (image - image.min()) / np.ptp(image)
    tint = rng.uniform(0.7, 1.0, 3)
    return np.concatenate([grey[..., None] * tint, np.ones((size, size, 1))], axis=2)


def _textured(bpy, obj, name: str, seed: int, size: int = 1024) -> None:
    image = bpy.data.images.new(name, size, size)
    image.pixels.foreach_set(_noise_texture(size, seed).astype(np.float32).ravel())
    image.pack()
    material = bpy.data.materials.new(name)
    material.use_nodes = True
    nodes = material.node_tree.nodes
    texture = nodes.new("ShaderNodeTexImage")
    texture.image, texture.interpolation = image, "Closest"
    material.node_tree.links.new(texture.outputs["Color"], nodes["Principled BSDF"].inputs["Base Color"])
    obj.data.materials.append(material)


def _camera_path(count: int) -> tuple[np.ndarray, np.ndarray]:
    """(T, 3) Blender locations and (T, 3) Euler angles (radians) of a hand-held camera walked forward."""
    t = np.arange(count) / FPS
    wave = lambda hz: np.sin(2 * np.pi * hz * t)  # noqa: E731
    location = np.stack([0.45 * t + 0.03 * wave(1.3), 0.9 * t, 1.6 + 0.025 * wave(1.9)], axis=1)
    euler = np.radians(np.stack([84.0 + 1.5 * wave(0.7), 0.4 * wave(1.1), -4.0 * t], axis=1))
    return location, euler


def render_handheld(out_dir: Path, count: int = 40) -> HandheldTruth:
    """Build the scene in this process's bpy, render ``count`` frames into ``out_dir``, return the truth."""
    import bpy
    from mathutils import Euler

    bpy.ops.wm.read_factory_settings(use_empty=True)
    scene = bpy.context.scene
    bpy.ops.mesh.primitive_plane_add(size=40.0, location=(0.0, 12.0, 0.0))
    _textured(bpy, bpy.context.object, "floor", 1, 2048)
    for index, (location, scale) in enumerate((((0, 32, 4), (20, 0.5, 4)), ((-16, 20, 4), (0.5, 14, 4)),
                                               ((16, 20, 4), (0.5, 14, 4)))):  # fmt: skip
        bpy.ops.mesh.primitive_cube_add(size=2.0, location=location, scale=scale)
        _textured(bpy, bpy.context.object, f"wall{index}", 2 + index)
    people = []
    for index, _ in enumerate(PEOPLE):
        bpy.ops.mesh.primitive_cube_add(size=1.0, scale=PERSON_SIZE)
        body = bpy.context.object
        material = bpy.data.materials.new(f"person{index}")
        material.diffuse_color = (*np.random.default_rng(10 + index).uniform(0.1, 0.9, 3), 1.0)
        body.data.materials.append(material)
        people.append(body)
    camera = bpy.data.objects.new("camera", bpy.data.cameras.new("camera"))
    scene.collection.objects.link(camera)
    camera.data.lens, camera.data.sensor_width, camera.data.sensor_fit = LENS_MM, SENSOR_MM, "HORIZONTAL"
    scene.camera = camera
    scene.render.engine = "BLENDER_WORKBENCH"
    scene.display.shading.light, scene.display.shading.color_type = "FLAT", "TEXTURE"
    scene.render.resolution_x, scene.render.resolution_y = SIZE
    scene.render.resolution_percentage = 100
    scene.render.image_settings.file_format = "PNG"
    locations, eulers = _camera_path(count)
    frames, rotations, centres, boxes, feet = [], [], [], [], []
    out_dir.mkdir(parents=True, exist_ok=True)
    focal = LENS_MM / SENSOR_MM * SIZE[0]
    for frame in range(count):
        camera.location, camera.rotation_euler = locations[frame].tolist(), Euler(eulers[frame].tolist(), "XYZ")
        standing = []
        for body, (start, velocity) in zip(people, PEOPLE, strict=True):
            x, y = np.asarray(start) + np.asarray(velocity) * frame / FPS
            body.location = (float(x), float(y), PERSON_SIZE[2] / 2)
            standing.append((x, y))
        bpy.context.view_layer.update()
        scene.render.filepath = str(out_dir / f"frame_{frame:04d}.png")
        bpy.ops.render.render(write_still=True)
        frames.append(Path(scene.render.filepath))
        to_world = np.array(camera.matrix_world)[:3, :3] @ OPENCV_TO_BLENDER_CAMERA  # OpenCV camera -> Blender world
        rotations.append(to_world.T)
        centres.append(np.array(camera.matrix_world)[:3, 3])
        feet.append([(x, y, 0.0) for x, y in standing])
        boxes.append([_box(to_world.T, centres[-1], (x, y), focal) for x, y in standing])
    bpy.ops.wm.read_factory_settings(use_empty=True)
    return _in_first_camera(frames, focal, np.array(rotations), np.array(centres), np.array(boxes), np.array(feet))


def _box(rotation: np.ndarray, centre: np.ndarray, foot: tuple[float, float], focal: float) -> np.ndarray:
    """The pixel box of a person's cuboid (Blender world) seen by a camera (OpenCV rotation, centre)."""
    w, d, h = PERSON_SIZE
    corners = np.array([[foot[0] + sx * w / 2, foot[1] + sy * d / 2, z] for sx in (-1, 1) for sy in (-1, 1)
                        for z in (0.0, h)])  # fmt: skip
    seen = (corners - centre) @ rotation.T
    pixels = seen[:, :2] / seen[:, 2:] * focal + np.array(SIZE) / 2.0
    return np.concatenate([pixels.min(axis=0), pixels.max(axis=0)])


def _in_first_camera(frames, focal, rotations, centres, boxes, feet) -> HandheldTruth:
    """Blender-world truth re-expressed in the first frame's camera (the capture's world)."""
    first, origin = rotations[0], centres[0]
    to_world = lambda p: (np.asarray(p) - origin) @ first.T  # noqa: E731 - Blender world -> capture world
    pelvis = feet + np.array([0.0, 0.0, PELVIS_HEIGHT])
    return HandheldTruth(frames=frames, focal_px=focal, rotations=rotations @ first.T, centres=to_world(centres),
                         boxes=boxes, feet=to_world(feet), pelvis=to_world(pelvis))  # fmt: skip
