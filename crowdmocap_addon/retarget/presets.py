"""Bone maps: which target bone each SMPL joint drives, shipped as JSON presets and detected from bone names.

A preset file (``presets/*.json``, and the user's own in the extension's user folder) holds::

    {"format": "crowdmocap-bone-map", "version": 1, "name": "Mixamo", "description": "...",
     "bones": {"pelvis": "mixamorig:Hips", ...},          # SMPL joint -> target bone; absent = unmapped
     "root": ["root"],                                     # candidate root-motion bones, first found wins
     "properties": {"torso": {"neck_follow": 1.0}}}        # rig settings keyed with the motion (Rigify)

Names with a namespace (``mixamorig:Hips``) also match the same bone under another namespace
(``mixamorig1:Hips``) or none (``Hips``), as Mixamo downloads vary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from ..core.joints import JOINT_NAMES

PRESET_FORMAT = "crowdmocap-bone-map"
PRESET_VERSION = 1
BUILTIN_ORDER = ("mixamo", "ue5", "unity", "rigify", "rigify_deform", "smpl")  # also the tie-break order
DETECTION_THRESHOLD = 0.7
_ID_PATTERN = re.compile(r"^[A-Za-z0-9_\-]+$")
_SHOWN_NAMES = 4


class BoneMapError(ValueError):
    """A preset file or a bone map is malformed; the message names the file or the entry."""


class UnknownRigError(BoneMapError):
    """No preset matches the target's bone names well enough; the message lists what was looked for."""


@dataclass(frozen=True)
class BoneMap:
    """SMPL joint name -> target bone name, plus the root-motion bone candidates and rig settings."""

    id: str
    name: str
    bones: Mapping[str, str]
    root: tuple[str, ...] = ()
    properties: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    description: str = ""
    builtin: bool = False

    def __post_init__(self) -> None:
        unknown = sorted(set(self.bones) - set(JOINT_NAMES))
        if unknown:
            raise BoneMapError(f"bone map {self.id!r}: {', '.join(unknown)} are not SMPL joints")
        targets = [bone for bone in self.bones.values() if bone]
        doubles = sorted({bone for bone in targets if targets.count(bone) > 1})
        if doubles:
            raise BoneMapError(f"bone map {self.id!r}: {', '.join(doubles)} driven by more than one SMPL joint")

    def target_bones(self) -> list[str]:
        """The mapped target names in SMPL joint order."""
        return [self.bones[joint] for joint in JOINT_NAMES if self.bones.get(joint)]

    def to_json(self) -> dict:
        return {
            "format": PRESET_FORMAT,
            "version": PRESET_VERSION,
            "name": self.name,
            "description": self.description,
            "bones": {joint: self.bones[joint] for joint in JOINT_NAMES if self.bones.get(joint)},
            "root": list(self.root),
            "properties": {bone: dict(values) for bone, values in self.properties.items()},
        }

    @classmethod
    def from_json(cls, preset_id: str, data: object, *, builtin: bool = False, where: str = "") -> BoneMap:
        where = where or preset_id
        if not isinstance(data, dict) or data.get("format") != PRESET_FORMAT:
            raise BoneMapError(f'{where}: not a CrowdMocap bone map (needs "format": "{PRESET_FORMAT}")')
        if data.get("version") != PRESET_VERSION:
            raise BoneMapError(f"{where}: bone map version {data.get('version')!r}; this add-on reads {PRESET_VERSION}")
        bones = data.get("bones")
        if not isinstance(bones, dict) or not all(isinstance(v, str) for v in bones.values()):
            raise BoneMapError(f'{where}: "bones" must map SMPL joint names to bone names')
        root = data.get("root", [])
        if isinstance(root, str):
            root = [root]
        properties = data.get("properties", {})
        if not isinstance(properties, dict) or not all(
            isinstance(values, dict) and all(isinstance(v, (int, float)) for v in values.values())
            for values in properties.values()
        ):
            raise BoneMapError(f'{where}: "properties" must map bone names to {{property: number}}')
        try:
            return cls(
                id=preset_id,
                name=str(data.get("name") or preset_id),
                bones={joint: bone for joint, bone in bones.items() if bone},
                root=tuple(str(name) for name in root),
                properties={bone: {k: float(v) for k, v in values.items()} for bone, values in properties.items()},
                description=str(data.get("description", "")),
                builtin=builtin,
            )
        except BoneMapError as exc:
            raise BoneMapError(f"{where}: {exc}") from exc


def resolve_name(wanted: str, available: Sequence[str]) -> str | None:
    """The rig's bone for a preset name: exact, else the same name under another or no namespace."""
    if wanted in available:
        return wanted
    if ":" not in wanted:
        return None
    short = wanted.rsplit(":", 1)[1]
    return next((name for name in available if name.rsplit(":", 1)[-1] == short), None)


def resolve(bone_map: BoneMap, available: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Match a map against a rig's bones -> ({SMPL joint: rig bone} for the bones found, [names not found])."""
    found: dict[str, str] = {}
    missing: list[str] = []
    for joint in JOINT_NAMES:
        wanted = bone_map.bones.get(joint)
        if not wanted:
            continue
        name = resolve_name(wanted, available)
        if name is None:
            missing.append(wanted)
        else:
            found[joint] = name
    return found, missing


def score(bone_map: BoneMap, available: Sequence[str]) -> float:
    """Fraction of the map's target bones the rig has (0 for an empty map)."""
    wanted = bone_map.target_bones()
    if not wanted:
        return 0.0
    found, _ = resolve(bone_map, available)
    return len(found) / len(wanted)


@dataclass(frozen=True)
class Detection:
    preset: BoneMap
    score: float
    scores: dict[str, float]  # every candidate's score, by preset id


def detect(
    available: Sequence[str], presets: Iterable[BoneMap], *, rig_name: str = "the rig",
    threshold: float = DETECTION_THRESHOLD,
) -> Detection:  # fmt: skip
    """The preset whose bones the rig has most of (earlier presets win ties), if above ``threshold``.

    Raises UnknownRigError naming every preset and the bones it looked for.
    """
    candidates = list(presets)
    scores = {preset.id: score(preset, available) for preset in candidates}
    best = None
    for preset in candidates:
        if best is None or scores[preset.id] > scores[best.id]:
            best = preset
    if best is not None and scores[best.id] >= threshold:
        return Detection(preset=best, score=scores[best.id], scores=scores)
    looked = "; ".join(
        f"{preset.name} ({', '.join(preset.target_bones()[:_SHOWN_NAMES])}, ...: "
        f"{round(scores[preset.id] * len(preset.target_bones()))} of {len(preset.target_bones())} found)"
        for preset in candidates
    )
    raise UnknownRigError(
        f"no bone-map preset matches {rig_name} (needs {threshold:.0%} of a preset's bones). Looked for: {looked}. "
        "Pick a preset, or fill in the bone map in the CrowdMocap panel and save it as a preset"
    )


def _builtin_dir():
    return resources.files(__package__).joinpath("presets")


def builtin_presets() -> list[BoneMap]:
    """The shipped presets, in ``BUILTIN_ORDER``."""
    folder = _builtin_dir()
    out = []
    for preset_id in BUILTIN_ORDER:
        text = folder.joinpath(f"{preset_id}.json").read_text(encoding="utf-8")
        out.append(BoneMap.from_json(preset_id, json.loads(text), builtin=True, where=f"presets/{preset_id}.json"))
    return out


def load_preset_file(path: Path) -> BoneMap:
    """A user preset; its id is the file name without ``.json``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BoneMapError(f"{path}: cannot read the bone map: {exc}") from exc
    return BoneMap.from_json(Path(path).stem, data, where=str(path))


def user_presets(folder: Path | None) -> tuple[list[BoneMap], list[str]]:
    """Every readable ``*.json`` in ``folder`` (sorted by name) and a message for each unreadable one."""
    if folder is None or not Path(folder).is_dir():
        return [], []
    presets, problems = [], []
    for path in sorted(Path(folder).glob("*.json")):
        if path.stem in BUILTIN_ORDER:
            problems.append(f"{path}: skipped, {path.stem!r} is a built-in preset's name")
            continue
        try:
            presets.append(load_preset_file(path))
        except BoneMapError as exc:
            problems.append(str(exc))
    return presets, problems


def preset_id_for(name: str) -> str:
    """A file-safe id from a display name: ``"My Rig 2"`` -> ``"my_rig_2"``."""
    slug = re.sub(r"[^A-Za-z0-9_\-]+", "_", name.strip()).strip("_").lower()
    if not slug or not _ID_PATTERN.match(slug):
        raise BoneMapError(f"cannot make a preset file name from {name!r}: use letters, digits, - or _")
    if slug in BUILTIN_ORDER:
        raise BoneMapError(f"{slug!r} is a built-in preset; choose another name")
    return slug


def save_user_preset(folder: Path, bone_map: BoneMap) -> Path:
    """Write ``bone_map`` as ``folder/<id>.json`` (replacing a user preset of that id)."""
    preset_id = preset_id_for(bone_map.id)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{preset_id}.json"
    path.write_text(json.dumps(bone_map.to_json(), indent=2) + "\n", encoding="utf-8")
    return path


def find_preset(preset_id: str, presets: Iterable[BoneMap]) -> BoneMap:
    candidates = list(presets)
    for preset in candidates:
        if preset.id == preset_id:
            return preset
    names = ", ".join(preset.id for preset in candidates)
    raise BoneMapError(f"no bone-map preset {preset_id!r}; known presets: {names}")
