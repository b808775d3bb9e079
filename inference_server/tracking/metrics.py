"""Identity metrics for evaluating trackers against known identities: IDF1 and ID switches."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

import numpy as np
from scipy.optimize import linear_sum_assignment


def id_metrics(truth: Mapping[int, Mapping[int, int]], predicted: Mapping[int, Mapping[int, int]]) -> dict[str, float]:
    """IDF1 and ID switches.

    ``truth[frame][object]`` = ground-truth id and ``predicted[frame][object]`` = track id for the same
    objects (detections) of each frame; an object missing from ``predicted`` was not tracked.
    """
    pairs: Counter[tuple[int, int]] = Counter()
    gt_count: Counter[int] = Counter()
    pred_count: Counter[int] = Counter()
    switches, last_track = 0, {}
    for frame in sorted(truth):
        for obj, gt_id in truth[frame].items():
            gt_count[gt_id] += 1
            track_id = predicted.get(frame, {}).get(obj)
            if track_id is None:
                continue
            pred_count[track_id] += 1
            pairs[gt_id, track_id] += 1
            if gt_id in last_track and last_track[gt_id] != track_id:
                switches += 1
            last_track[gt_id] = track_id
    gt_ids, pred_ids = sorted(gt_count), sorted(pred_count)
    overlap = np.zeros((len(gt_ids), len(pred_ids)))
    for (g, p), n in pairs.items():
        overlap[gt_ids.index(g), pred_ids.index(p)] = n
    rows, cols = linear_sum_assignment(-overlap) if overlap.size else ([], [])
    idtp = float(overlap[rows, cols].sum()) if overlap.size else 0.0
    total = sum(gt_count.values()) + sum(pred_count.values())
    return {"idf1": 2 * idtp / total if total else 1.0, "id_switches": float(switches)}
