"""The catalogs that data migrations load: plans, prices, add-ons and AI actions.

Emptying the database (a transactional test, a benchmark's clean slate) removes them
too; the product cannot run without them, so this puts back whatever is missing.
"""

from __future__ import annotations


def load_reference_data() -> None:
    from credits.catalog import load_action_catalog
    from credits.models import ActionType
    from subscriptions.catalog import load_demo_catalog
    from subscriptions.models import AddOn, Plan, Price

    if not Plan.objects.exists():
        load_demo_catalog(Plan, Price, AddOn)
    if not ActionType.objects.exists():
        load_action_catalog(ActionType)
