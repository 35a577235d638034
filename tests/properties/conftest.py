"""Hypothesis profiles of the stateful property tests.

``billing-life`` runs in ``make test``: 20 examples of up to 40 steps, about a minute on
two cores. ``billing-life-long`` runs ten times the examples (about ten minutes), selected
with ``HYPOTHESIS_PROFILE=long`` (``make properties``).
The profiles are only registered here, never loaded globally: the suite's other
Hypothesis tests keep their own settings.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

EXAMPLES = 20
STEPS = 40

_COMMON = settings(
    deadline=None,
    stateful_step_count=STEPS,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)

# `make test` replays the same examples on every run (a red build always means a change
# broke an invariant); `make properties` explores new ones each time.
settings.register_profile("billing-life", _COMMON, max_examples=EXAMPLES, derandomize=True, database=None)
settings.register_profile("billing-life-long", _COMMON, max_examples=10 * EXAMPLES)
# Replays the failures `make properties` saved in .hypothesis/, without generating or shrinking.
settings.register_profile("billing-life-replay", _COMMON, phases=[Phase.explicit, Phase.reuse])
