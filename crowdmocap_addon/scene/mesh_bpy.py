"""Body meshes: a person's shaped rest mesh, SMPL skinning weights as vertex groups, armature modifier."""

from __future__ import annotations

import bpy
import numpy as np

from ..core.joints import JOINT_NAMES
from ..core.result.schema import CapturedPerson
from .body_mesh import BodySource, vertex_group_entries
from .names import body_name, material_name
from .transaction_bpy import CreatedData


def _new_mesh(name: str, vertices: np.ndarray, faces: np.ndarray, created: CreatedData) -> bpy.types.Mesh:
    mesh = created.add(bpy.data.meshes.new(name))
    mesh.vertices.add(len(vertices))
    mesh.vertices.foreach_set("co", np.asarray(vertices, dtype=np.float32).reshape(-1))
    corners = np.asarray(faces, dtype=np.int32)
    mesh.loops.add(corners.size)
    mesh.loops.foreach_set("vertex_index", corners.reshape(-1))
    mesh.polygons.add(len(corners))
    mesh.polygons.foreach_set("loop_start", np.arange(0, corners.size, corners.shape[1], dtype=np.int32))
    mesh.update()
    mesh.shade_smooth()
    return mesh


def _add_vertex_groups(obj: bpy.types.Object, weights: np.ndarray) -> None:
    """One group per SMPL joint; ``add`` takes one weight per call, so vertices sharing a weight go together."""
    for name, (rows, values) in zip(JOINT_NAMES, vertex_group_entries(weights), strict=True):
        group = obj.vertex_groups.new(name=name)
        unique, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
        batches = np.split(rows[np.argsort(inverse, kind="stable")], np.cumsum(counts)[:-1])
        for weight, batch in zip(unique, batches, strict=True):
            group.add(batch.tolist(), float(weight), "REPLACE")


class BodyBuilder:
    """Builds body objects; the first person's mesh (with its weights) is copied for everyone else."""

    def __init__(self, bodies: BodySource, created: CreatedData) -> None:
        self._bodies = bodies
        self._created = created
        self._template: bpy.types.Mesh | None = None

    def build(self, track: CapturedPerson, armature: bpy.types.Object) -> bpy.types.Object:
        """The person's skinned body, parented to their armature, in the armature's collections."""
        name = body_name(armature.name)
        vertices = self._bodies.rest_vertices(track)
        if self._template is None:
            mesh = _new_mesh(name, vertices, self._bodies.faces, self._created)
        else:
            mesh = self._created.add(self._template.copy())
            mesh.name = name
            mesh.vertices.foreach_set("co", np.asarray(vertices, dtype=np.float32).reshape(-1))
            mesh.update()
        obj = self._created.add(bpy.data.objects.new(name, mesh))
        for collection in armature.users_collection:
            collection.objects.link(obj)
        if self._template is None:
            _add_vertex_groups(obj, self._bodies.weights)
            self._template = mesh
        obj.parent = armature
        obj.matrix_parent_inverse.identity()
        modifier = obj.modifiers.new("Armature", "ARMATURE")
        modifier.object = armature
        modifier.use_vertex_groups = True
        modifier.use_deform_preserve_volume = False  # linear blend skinning, as SMPL
        return obj


def paint(armature: bpy.types.Object, body: bpy.types.Object, colour: tuple[float, float, float, float],
          created: CreatedData) -> bpy.types.Material:  # fmt: skip
    """Give a person their own colour: a material on the body (viewport and render), and the objects' colour."""
    material = created.add(bpy.data.materials.new(material_name(armature.name)))
    material.diffuse_color = colour  # what Solid shading shows
    if material.node_tree is None:  # Blender 5 always has nodes (and deprecates use_nodes); 4.5 starts without
        material.use_nodes = True
    shader = next((node for node in material.node_tree.nodes if node.type == "BSDF_PRINCIPLED"), None)
    if shader is not None:
        shader.inputs["Base Color"].default_value = colour
    body.data.materials.clear()
    body.data.materials.append(material)
    armature.color = body.color = colour  # Solid shading's "Object" colour
    return material
