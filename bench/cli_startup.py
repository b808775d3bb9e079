"""CLI start-up time: ``crowdmocap-server --help`` and ``import inference_server.cli``, against ``import torch``.

.venv/bin/python bench/cli_startup.py [--runs 7]

Each command runs in a fresh interpreter (``sys.executable``), ``--runs`` times, after one untimed warm-up
so the OS file cache is equally hot for all; the median wall time is printed. ``import torch`` (what the
CLI loaded before its imports were made lazy) and a bare ``python -c pass`` run in the same session as
the baselines, so the figures compare across machines as ratios. Target: ``--help`` under 1 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_HELP_S = 1.0


def _commands() -> dict[str, list[str]]:
    python = sys.executable
    commands = {
        "python -c pass": [python, "-c", "pass"],
        "python -m inference_server --help": [python, "-m", "inference_server", "--help"],
        "python -c 'import inference_server.cli'": [python, "-c", "import inference_server.cli"],
    }
    script = shutil.which("crowdmocap-server", path=str(Path(python).parent))
    if script:
        commands["crowdmocap-server --help"] = [script, "--help"]
    commands["python -c 'import torch'"] = [python, "-c", "import torch"]
    return commands


def _median_seconds(command: list[str], runs: int) -> float:
    """Median wall time of ``command``, which must succeed; the first, warm-up run is not counted."""
    times = []
    for run in range(runs + 1):
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if run:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per command (default 7)")
    args = parser.parse_args()
    medians = {label: _median_seconds(command, args.runs) for label, command in _commands().items()}
    torch_s = medians["python -c 'import torch'"]
    print(f"median of {args.runs} runs, {sys.executable}")
    print(f"{'command':<42} {'seconds':>8} {'/ torch':>8}")
    for label, seconds in medians.items():
        print(f"{label:<42} {seconds:>8.3f} {seconds / torch_s:>8.2f}")
    help_s = medians["python -m inference_server --help"]
    verdict = "met" if help_s < TARGET_HELP_S else "MISSED"
    print(f"\n--help: {help_s:.3f} s, target < {TARGET_HELP_S:g} s: {verdict}")


if __name__ == "__main__":
    main()
