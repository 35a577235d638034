"""Paid seats for the licences subscriptions billed before seats were synced with billing.

Until billing matched the seat rows to each purchase, plan change and customization, a
subscription billed every licensed member beyond its included and extra seats, with or
without a :class:`~teams.models.Seat` row. The subscription now bills its extra seats
plus its co-termed paid seats; this gives the members it billed without a row a
co-termed seat on the current period, so what it bills does not change. Idempotent:
only the missing seats are created.
"""

from django.db import migrations

#: Roles that hold a licence when this migration was written (workspaces.permissions).
LICENSED_ROLES = ("owner", "admin", "billing_admin", "member")


def seat_billed_licences(apps, schema_editor):
    Subscription = apps.get_model("subscriptions", "Subscription")
    Membership = apps.get_model("workspaces", "Membership")
    Seat = apps.get_model("teams", "Seat")
    subscriptions = (
        Subscription.objects.select_related("plan", "price")
        .filter(plan__seats_are_free=False)
        .exclude(status="expired")
        .order_by("id")
    )
    for subscription in subscriptions.iterator():
        licensed = Membership.objects.filter(workspace_id=subscription.workspace_id, role__in=LICENSED_ROLES)
        active = Seat.objects.filter(workspace_id=subscription.workspace_id, status="active")
        missing = (
            licensed.count() - subscription.plan.included_seats - subscription.extra_seats - active.count()
        )
        if missing <= 0:
            continue
        unseated = licensed.exclude(pk__in=active.values("membership_id"))
        if subscription.plan.included_seats:
            unseated = unseated.exclude(role="owner")  # the admin's own seat is an included one
        for membership in unseated.select_related("user").order_by("-created_at", "-id")[:missing]:
            Seat.objects.create(
                workspace_id=subscription.workspace_id,
                membership=membership,
                user=membership.user,
                user_email=membership.user.email,
                interval=subscription.price.interval,
                coterm=True,
                anchor_date=subscription.current_period_start.date(),
                period_start=subscription.current_period_start,
                period_end=subscription.current_period_end,
                price_cents=subscription.price.seat_amount,
                currency=subscription.price.currency,
                added_at=subscription.current_period_start,
            )


class Migration(migrations.Migration):
    dependencies = [
        ("teams", "0001_initial"),
        ("subscriptions", "0003_billing_engine"),
        ("workspaces", "0001_initial"),
    ]

    operations = [migrations.RunPython(seat_billed_licences, migrations.RunPython.noop)]
