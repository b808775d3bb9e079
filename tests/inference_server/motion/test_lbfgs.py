"""The per-person L-BFGS: each row of the batch is solved as if alone, and solved well."""

from __future__ import annotations

import pytest
import torch

from inference_server.motion.temporal_fit import lbfgs
from inference_server.motion.temporal_fit.lbfgs import minimise


def rosenbrock(x: torch.Tensor, stiffness: torch.Tensor) -> torch.Tensor:
    """(P, 2N) -> (P,): the banana valley, one stiffness per row (1e2 is the classic, 1e4 a much harder one)."""
    a, b = x[:, 0::2], x[:, 1::2]
    return ((1 - a) ** 2 + stiffness[:, None] * (b - a**2) ** 2).sum(dim=1)


def test_every_row_reaches_its_own_minimum():
    torch.manual_seed(0)
    start = torch.randn(4, 6, dtype=torch.float64)
    stiffness = torch.tensor([1.0, 10.0, 100.0, 1000.0], dtype=torch.float64)
    solved = minimise(lambda x: rosenbrock(x, stiffness), start, iterations=600)
    torch.testing.assert_close(solved, torch.ones_like(start), atol=1e-5, rtol=0)


def test_a_row_follows_the_same_path_whoever_it_is_solved_with():
    torch.manual_seed(1)
    easy = torch.randn(1, 6, dtype=torch.float64)
    others = torch.randn(3, 6, dtype=torch.float64) * 3
    stiffness = torch.tensor([100.0], dtype=torch.float64)
    alone = minimise(lambda x: rosenbrock(x, stiffness.expand(len(x))), easy, iterations=12)  # mid-way, not converged
    crowd_stiffness = torch.tensor([100.0, 1e4, 1e5, 3.0], dtype=torch.float64)
    together = minimise(lambda x: rosenbrock(x, crowd_stiffness), torch.cat([easy, others]), iterations=12)
    torch.testing.assert_close(together[:1], alone, atol=1e-12, rtol=0)  # hard neighbours change nothing
    assert not torch.allclose(alone, easy)


def test_a_row_whose_energy_is_not_finite_stays_where_it_started():
    start = torch.tensor([[0.5, 0.5], [float("nan"), 0.0], [-1.0, 2.0]], dtype=torch.float64)
    solved = minimise(lambda x: rosenbrock(x, torch.full((3,), 10.0, dtype=torch.float64)), start, iterations=100)
    assert torch.isnan(solved[1, 0]) and solved[1, 1] == 0.0
    torch.testing.assert_close(solved[[0, 2]], torch.ones(2, 2, dtype=torch.float64), atol=1e-5, rtol=0)


def test_a_quadratic_is_solved_in_few_steps():
    """A badly conditioned (1000:1) quadratic: solved in a few dozen steps, where steepest descent needs thousands
    (torch's own L-BFGS with its strong-Wolfe search is no closer after the same count)."""
    torch.manual_seed(2)
    basis = torch.linalg.qr(torch.randn(8, 8, dtype=torch.float64))[0]
    hessian = basis @ torch.diag(torch.logspace(0, 3, 8, dtype=torch.float64)) @ basis.T
    target = torch.randn(2, 8, dtype=torch.float64)

    def energy(x: torch.Tensor) -> torch.Tensor:
        d = x - target
        return 0.5 * ((d @ hessian) * d).sum(dim=1)

    solved = minimise(energy, torch.zeros(2, 8, dtype=torch.float64), iterations=40)
    torch.testing.assert_close(solved, target, atol=1e-4, rtol=0)


def test_a_first_step_too_small_for_float32_does_not_end_the_solve():
    """Many small, still-wrong variables under a large energy, in float32 (like a long track's 6D rotations
    once the root is placed): a first step scaled by the gradient's whole size (torch's L-BFGS rule, and
    this solver's before) changes the energy by less than float32 resolves, and the solve ended there
    (one person-solve in ten on the street clip). Stepping by a fixed largest change solves it."""
    target = torch.linspace(0.5, 1.5, 1_000_000)

    def energy(x: torch.Tensor) -> torch.Tensor:
        return 1e4 + 5e-5 * ((x - target) ** 2).sum(dim=1)

    start = torch.zeros(1, len(target))
    solved = minimise(energy, start, iterations=30)
    assert float(energy(solved)[0]) < 1e4 + 1e-2  # from 10054.2
    torch.testing.assert_close(solved[0], target, atol=1e-3, rtol=0)


def test_a_failed_line_search_starts_that_row_again_instead_of_ending_it(monkeypatch: pytest.MonkeyPatch):
    """With a line search too short to find an acceptable step (two trials here; ten in use, which the
    street clip's long tracks still exhaust), a row whose search fails forgets its history and starts
    again down the gradient. Ending the row there instead left all four far from the minimum (energies
    2.5, 12.5, 1.0 and 0.29)."""
    monkeypatch.setattr(lbfgs, "MAX_TRIALS", 2)
    start = torch.tensor([[-1.2, 1.0], [-1.5, 2.0], [0.0, 0.0], [2.0, -1.0]], dtype=torch.float64)
    stiffness = torch.full((4,), 100.0, dtype=torch.float64)
    solved = minimise(lambda x: rosenbrock(x, stiffness), start, iterations=500)
    assert rosenbrock(solved, stiffness).max() < 0.1  # measured: three rows below 1e-16, one at 0.06


def test_a_fresh_step_thousands_of_times_too_long_is_shortened_in_few_trials(monkeypatch: pytest.MonkeyPatch):
    """A stiff term met by a fresh step (the street clip's floor penalty, centimetres wide, against a step
    of decimetres): the first step is 5,000 times longer than the Armijo test accepts. Each retry at the
    parabola's minimum (at most a tenth of the last) finds it within the ten trials; halving needed 13,
    so that person's fit ended at its start (one of the street clip's nine people, measured)."""
    stiffness = 1e9

    def energy(x: torch.Tensor) -> torch.Tensor:
        return stiffness * x[:, 0] ** 2 + (x[:, 1] - 1) ** 2

    start = torch.tensor([[1e-6, 0.0]], dtype=torch.float64)
    assert float(energy(minimise(energy, start, iterations=1))[0]) < 1.0 + 1e-5  # from 1.001: the stiff part gone
    monkeypatch.setattr(lbfgs, "SHRINK", (0.5, 0.5))  # plain halving
    torch.testing.assert_close(minimise(energy, start, iterations=30), start)  # stuck where it started
