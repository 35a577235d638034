"""Hypothesis profiles of the stateful property tests.

``billing-life`` runs in ``make test`` (about a minute on two cores); ``billing-life-long``
runs ten times the examples, selected with ``HYPOTHESIS_PROFILE=long`` (``make properties``).
The profiles are only registered here, never loaded globally: the suite's other
Hypothesis tests keep their own settings.
"""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

EXAMPLES = 25
STEPS = 40

_COMMON = settings(
    deadline=None,
    stateful_step_count=STEPS,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=True,
)

# `make test` replays the same examples on every run (a red build always means a change
# broke an invariant); `make properties` explores new ones each time.
settings.register_profile("billing-life", _COMMON, max_examples=EXAMPLES, derandomize=True)
settings.register_profile("billing-life-long", _COMMON, max_examples=10 * EXAMPLES)
settings.register_profile("billing-life-replay", _COMMON, phases=[Phase.explicit, Phase.reuse])
