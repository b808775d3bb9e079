"""L-BFGS for P independent problems solved side by side: each person has their own history and step.

Fitting everyone in one batch is what makes the fit fast (one forward and backward pass for all), but
``torch.optim.LBFGS`` treats the batch as one problem: one line search, one curvature history. Then a
person's fit depends on who they are fitted with, and one hard person shortens everyone's steps
(measured on the street clip: fitted alone, people came out with 0 % implausible frames against 0.9 %
batched). Here the energy is a vector, one value per person, and every quantity of the method (the
two-loop recursion's dot products, the step length, the Armijo test, convergence) is per person, so
each person follows exactly the path they would alone, at the batch's cost.

The line search backtracks (Armijo; each retry at the minimum of a parabola through what the failed
trial measured, ``_shorter``) with every person's trial step evaluated in the same pass.
A person's first step, and any step after a failed search, goes down the gradient with its largest
change ``FIRST_STEP``: a unit step along a gradient whose entries are in the hundreds (the 6D rotations
of a long track) is too long, and one scaled by the gradient's whole size, as ``torch.optim.LBFGS``
does, too short to change a float32 energy of ~100 at all (measured: one person-solve in ten on the
street clip failed every halving of its first step and was left where it started). A failed search
drops that person's history and starts again down the gradient; a person whose fresh start fails too,
or whose energy and gradient stop changing, is finished and holds still while the others go on.
"""

from __future__ import annotations

from collections.abc import Callable

import torch

Energy = Callable[[torch.Tensor], torch.Tensor]  # (P, N) variables -> (P,) energies

ARMIJO = 1e-4  # sufficient decrease: the step must gain this share of what the slope promises
MAX_TRIALS = 10  # trial steps per line search
SHRINK = (0.1, 0.5)  # each retry's step as a share of the failed one, at least and at most
CURVATURE_FLOOR = 1e-10  # pairs (s, y) with s.y below this would break the inverse-Hessian estimate
RELATIVE_CHANGE = 1e-7  # a person whose energy changes less than this (relative) in a step is done
GRADIENT_FLOOR = 1e-7
FIRST_STEP = 1e-2  # the largest change of any variable on a step down the gradient


def _evaluate(energy: Energy, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Energies (P,) and their gradients (P, N) at ``x``."""
    with torch.enable_grad():
        leaf = x.detach().requires_grad_(True)
        values = energy(leaf)
        (gradient,) = torch.autograd.grad(values.sum(), leaf)  # people do not interact: each row is its own
    return values.detach(), gradient


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a * b).sum(dim=1)


def _direction(gradient: torch.Tensor, steps: list[torch.Tensor], changes: list[torch.Tensor],
               rho: list[torch.Tensor]) -> torch.Tensor:  # fmt: skip
    """The two-loop recursion, per person (a pair with rho 0 is one that person skipped)."""
    q = gradient.clone()
    alphas = []
    for s, y, r in zip(reversed(steps), reversed(changes), reversed(rho), strict=True):
        alpha = r * _dot(s, q)
        q -= alpha[:, None] * y
        alphas.append(alpha)
    if steps:
        s, y, r = steps[-1], changes[-1], rho[-1]
        gamma = torch.where(r > 0, _dot(s, y) / _dot(y, y).clamp(min=1e-30), torch.ones_like(r))
        q *= gamma[:, None]
    for s, y, r, alpha in zip(steps, changes, rho, reversed(alphas), strict=True):
        beta = r * _dot(y, q)
        q += (alpha - beta)[:, None] * s
    return -q


def _shorter(length: torch.Tensor, value: torch.Tensor, slope: torch.Tensor, trial: torch.Tensor) -> torch.Tensor:
    """The next trial step after a failed one: the minimum of the parabola through the energy, its slope at
    the start and the failed trial (Nocedal & Wright, sec. 3.5), kept within ``SHRINK`` of the failed step.

    Halving alone needs ten trials to cross a factor of a thousand, which a stiff term (a floor penalty
    in centimetres, met by a step of metres) asks for on a fresh step; the parabola gets there in one or
    two. A non-finite trial shrinks the step by the most.
    """
    excess = trial - value - slope * length  # > 0 whenever the Armijo test failed (slope < 0)
    minimum = -slope * length**2 / (2 * excess.clamp(min=1e-30))
    low, high = SHRINK[0] * length, SHRINK[1] * length
    return torch.where(torch.isfinite(trial), torch.minimum(torch.maximum(minimum, low), high), low)


def minimise(energy: Energy, x: torch.Tensor, iterations: int, history: int = 20) -> torch.Tensor:
    """Minimise every person's energy from ``x`` (P, N); returns the variables after ``iterations`` steps."""
    x = x.detach().clone()
    values, gradient = _evaluate(energy, x)
    steps: list[torch.Tensor] = []
    changes: list[torch.Tensor] = []
    rho: list[torch.Tensor] = []
    going = torch.isfinite(values)
    fresh = torch.ones_like(going)  # no curvature known for this person: step down the gradient
    for _ in range(iterations):
        if not bool(going.any()):
            break
        direction = _direction(gradient, steps, changes, rho)
        slope = _dot(gradient, direction)
        downhill = fresh | (slope >= 0)  # a stale history can point uphill: fall back to steepest descent
        direction = torch.where(downhill[:, None], -gradient, direction)
        slope = torch.where(downhill, -_dot(gradient, gradient), slope)
        steepest = (FIRST_STEP / gradient.abs().amax(dim=1).clamp(min=1e-30)).clamp(max=1.0)
        length = torch.where(downhill, steepest, torch.ones_like(values))
        length = torch.where(going, length, torch.zeros_like(length))
        accepted = ~going
        new_x, new_values, new_gradient = x.clone(), values.clone(), gradient.clone()
        for _ in range(MAX_TRIALS):
            trial = torch.where(accepted[:, None], new_x, x + length[:, None] * direction)
            trial_values, trial_gradient = _evaluate(energy, trial)
            good = ~accepted & torch.isfinite(trial_values) & (trial_values <= values + ARMIJO * length * slope)
            new_x[good], new_values[good], new_gradient[good] = trial[good], trial_values[good], trial_gradient[good]
            accepted = accepted | good
            if bool(accepted.all()):
                break
            length = torch.where(accepted, length, _shorter(length, values, slope, trial_values))
        failed = going & ~(accepted & (length > 0))
        stuck = failed & fresh  # even a fresh step down the gradient found no lower energy
        s, y = new_x - x, new_gradient - gradient
        curvature = _dot(s, y)
        r = torch.where(
            going & ~failed & (curvature > CURVATURE_FLOOR), 1.0 / curvature.clamp(min=CURVATURE_FLOOR), 0.0
        )
        for past in rho:  # a failed search forgets that person's history: the next step starts afresh
            past.masked_fill_(failed, 0.0)
        steps.append(s), changes.append(y), rho.append(r)
        if len(steps) > history:
            steps.pop(0), changes.pop(0), rho.pop(0)
        fresh = failed
        settled = ~failed & ((values - new_values).abs() <= RELATIVE_CHANGE * new_values.abs())
        flat = new_gradient.abs().amax(dim=1) <= GRADIENT_FLOOR
        going = going & ~stuck & ~settled & ~flat
        x, values, gradient = new_x, new_values, new_gradient
    return x
