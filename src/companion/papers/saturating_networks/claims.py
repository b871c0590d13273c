"""The verdict rules of the saturating-networks chapter (Nayebi & Ganguli 2017): each one a function
of the measured numbers that decides one scorecard claim, unit-tested on inputs that pass and fail."""

from __future__ import annotations

import numpy as np

PAPER_ADAM_STEPS_3_TO_7 = 30_000_000  # "even in the most extreme case where we ran Adam for 30 million iterations"
PAPER_LBFGS_ITERATIONS = 1000  # "we ran L-BFGS for 1000 iterations"


def judged_at_length(passed: bool, steps_run: int, paper_steps: int) -> bool:
    """Whether a claim that an attack *fails* can be judged after ``steps_run`` of the paper's
    ``paper_steps``: a success in a shorter run already contradicts it, but a failure counts only
    once the attack ran as long as the paper's (a short run cannot show what a long one did not
    find)."""
    return not passed or steps_run >= paper_steps


PAPER_MOST_CONFIDENT_SUCCESSES = 5  # "only 5 such cases" (of 90 pairs, from the most confident start)


def near_paper_successes(count: int, tolerance: int = 5) -> bool:
    """The L-BFGS successes from the most confident start lie within ``tolerance`` of the paper's
    :data:`PAPER_MOST_CONFIDENT_SUCCESSES` (the scorecard row's own test)."""
    return abs(int(count) - PAPER_MOST_CONFIDENT_SUCCESSES) <= tolerance


def lbfgs_judged(passed: bool, iterations: int) -> bool:
    """:func:`judged_at_length` against the paper's L-BFGS run ("we ran L-BFGS for 1000
    iterations", section 7)."""
    return judged_at_length(passed, iterations, PAPER_LBFGS_ITERATIONS)


def fooled_within(success, steps, limit: float) -> bool:
    """Every attack succeeded, the median in fewer than ``limit`` steps ("usually within less
    than 10 iterations"; "usually within 1-2 iterations"). ``success``, ``steps``: ``(n,)``."""
    success, steps = np.asarray(success, bool), np.asarray(steps)
    return bool(success.size) and bool(success.all()) and float(np.median(steps)) < limit


def still_unfooled(success, steps_run: int, paper_steps: int = PAPER_ADAM_STEPS_3_TO_7) -> tuple:
    """The 3 -> 7 claim: ``(passed, judged)``. A success in fewer steps than the paper ran
    contradicts it (judged, failed); a failure counts only once the attack ran as long as the
    paper's (else not judged: a short run cannot show what 30 million steps did not find)."""
    passed = not np.any(success)
    return passed, judged_at_length(passed, steps_run, paper_steps)


# --- rules of the sections 5-7 claims ----------------------------------------------------------


def higher_in_every_layer(saturated, vanilla) -> bool:
    """Every layer's value is higher in the saturated network than in the vanilla one (kurtosis,
    between-class dissimilarity). ``saturated``, ``vanilla``: per-layer values, same length."""
    saturated, vanilla = list(saturated), list(vanilla)
    if len(saturated) != len(vanilla) or not saturated:
        raise ValueError(f"need as many saturated as vanilla layers, got {len(saturated)} and {len(vanilla)}")
    return bool(all(s > v for s, v in zip(saturated, vanilla)))


def higher_in_every_network(pairs) -> bool:
    """:func:`higher_in_every_layer` for every network. ``pairs``: one ``(saturated, vanilla)``
    per network (or one for all layers pooled), each a list of per-layer values."""
    return all(higher_in_every_layer(saturated, vanilla) for saturated, vanilla in pairs)


def layers_higher(pairs) -> tuple[int, int]:
    """``(count, total)``: how many layers, over all ``pairs`` (as in
    :func:`higher_in_every_network`), are higher when saturated, and how many layers there are."""
    count = sum(s > v for saturated, vanilla in pairs for s, v in zip(saturated, vanilla))
    return count, sum(len(vanilla) for _, vanilla in pairs)


def fewer_directions(saturated_counts, vanilla_counts) -> bool:
    """Fewer singular values inflate at the transitions, on average, in the saturated network."""
    return float(np.mean(saturated_counts)) < float(np.mean(vanilla_counts))


def always_fooled(success_rates) -> bool:
    """Every targeted attack succeeded, from every start. ``success_rates``: fractions."""
    return bool(min(success_rates) == 1.0)


def mostly_unfooled(success_rate: float) -> bool:
    """ "in the majority of cases, unable to fool the network": success below one half."""
    return bool(success_rate < 0.5)
