"""Export time for a crowd: 50 people x 300 frames, each preset, one file per person and one for everyone.

A synthetic capture (random motion, the stand-in body) is imported, then exported with each preset, one
file per person: the time per person-file is measured with the person alone in the scene and inside the
whole crowd (exporters evaluate the whole scene per frame; the export hides everyone else, so the ratio
should stay near 1). Printed, not asserted.

.venv/bin/python bench/export_crowd.py [--people 50] [--frames 300]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> None:
    import bpy
    import numpy as np

    from crowdmocap_addon.core.result.writer import write_result
    from crowdmocap_addon.export.export_bpy import export_people, people_in
    from crowdmocap_addon.export.presets import PRESETS
    from crowdmocap_addon.scene.build_bpy import import_result
    from tests.helpers.captures import make_capture, make_person

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=50)
    parser.add_argument("--frames", type=int, default=300)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    crowd = [make_person(i, np.arange(args.frames), rng) for i in range(args.people)]
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        timings: dict[tuple[str, int], float] = {}
        for size in (1, args.people):  # the same first person, alone and inside the whole crowd
            capture = make_capture(people=1, frames=4)
            capture.people = crowd[:size]
            bpy.ops.wm.read_factory_settings(use_empty=True)
            start = time.perf_counter()
            imported = import_result(bpy.context, write_result(work / f"crowd{size}.npz", capture))
            print(f"import of {size} people x {args.frames} frames: {time.perf_counter() - start:.1f} s")
            people = people_in(imported.collection)
            for name, preset in PRESETS.items():
                start = time.perf_counter()
                files = export_people(bpy.context, people, preset, work / f"{name}{size}", capture_name="crowd")
                timings[name, size] = (time.perf_counter() - start) / len(files)
            if size > 1:
                start = time.perf_counter()
                export_people(bpy.context, people, PRESETS["unity"], work / "one", capture_name="crowd",
                              per_person=False)  # fmt: skip
                print(f"unity, all {size} people in one file: {time.perf_counter() - start:.1f} s")
    print(f"\nseconds per person-file, {args.frames} frames")
    print(f"{'preset':>8} {'alone':>7} {f'in {args.people}':>7} {'ratio':>6} {f'total {args.people}':>9}")
    for name in PRESETS:
        alone, crowded = timings[name, 1], timings[name, args.people]
        print(f"{name:>8} {alone:>7.2f} {crowded:>7.2f} {crowded / alone:>6.2f} {crowded * args.people:>9.1f}")


if __name__ == "__main__":
    main()
