"""Worker processes for the temporal fit: its batches fitted side by side, one per CPU core.

The fit is thousands of small tensor operations, and on the CPU neither torch's own threads nor Python
threads run them any faster (Python's lock between the operations: measured on the street clip, 51-53 ms
per person-frame either way); processes do. Each person is their own problem (``lbfgs``), so where
they are fitted changes nothing but float32 round-off.
"""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from .fit import FitSettings

# Worker processes at most when ``FitSettings.workers`` leaves it to the cores: each is a Python with torch.
MAX_WORKERS = 8


def batch_cost(group: Sequence[int], lengths: Sequence[int], overhead: int) -> int:
    """What fitting ``group`` costs, in padded person-frames (``people.batches``' model)."""
    return overhead + len(group) * max(lengths[i] for i in group)


def spread(groups: Sequence[Sequence[int]], lengths: Sequence[int], workers: int, overhead: int) -> list[list[int]]:
    """``people.batches``' groups split until each of ``workers`` processes has one: the costliest group first,
    into two runs (longest first, as ``batches`` orders them) whose larger cost is least. Fitted in
    parallel, the time is the costliest batch's, no longer the sum."""
    out = [list(group) for group in groups]
    while len(out) < workers:
        splittable = [group for group in out if len(group) > 1]
        if not splittable:
            break
        group = max(splittable, key=lambda g: batch_cost(g, lengths, overhead))
        halves = {k: max(batch_cost(group[:k], lengths, overhead), batch_cost(group[k:], lengths, overhead))
                  for k in range(1, len(group))}  # fmt: skip
        cut = min(halves, key=halves.__getitem__)
        out.remove(group)
        out += [group[:cut], group[cut:]]
    return out


def _start_worker() -> None:
    """A worker's torch runs on one core (the workers are the parallelism), and the worker ends with the
    process that started it: a pool's workers outlive a parent that was killed (a capture child stopped for
    ignoring a cancel), blocked for good on their queue (measured: still there minutes later)."""
    torch.set_num_threads(1)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_with, args=(parent,), name="crowdmocap-fit-parent", daemon=True).start()


def _exit_with(parent: multiprocessing.process.BaseProcess) -> None:
    parent.join()  # returns when the parent is gone, however it went
    os._exit(1)


@dataclass(frozen=True)
class Workers:
    """Where the batches are fitted: ``count`` processes of ``pool``, or this process (None, 1)."""

    pool: Executor | None
    count: int


@contextmanager
def fit_workers(people: int, settings: FitSettings) -> Iterator[Workers]:
    """Worker processes for the fit on the CPU, one per core (as many as there are people at most), or none
    (the fit runs here): on a GPU, for one person, with ``settings.workers`` 1, or inside a daemon.

    Spawned, not forked, since a fork of a process whose torch has started its thread pool
    can hang; starting two costs ~1.8 s and 256 MB each (measured). A cancelled capture drops the batches
    not yet started.
    """
    count = min(settings.workers or min(os.cpu_count() or 1, MAX_WORKERS), people)
    # A daemonic process may not start processes; the server's capture child is started as one and clears
    # the flag for itself (``server/capture_process.py``), any other daemon fits in itself.
    daemonic = multiprocessing.current_process().daemon
    if torch.device(settings.device).type != "cpu" or count < 2 or daemonic:
        yield Workers(None, 1)
        return
    pool = ProcessPoolExecutor(count, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker)
    try:
        yield Workers(pool, count)
    finally:  # a batch already running is let finish, as in one process; waited for, since a process that
        # exits straight after an unwaited shutdown leaves its workers behind (measured)
        pool.shutdown(wait=True, cancel_futures=True)
