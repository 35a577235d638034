"""Credit packs on every plan: Free and Education sell the packs of 1 000 credits for
5,00 € that the paid plans sell (docs/rules/plans.md#extra-credits). Rows an operator has
given a pack already are left as they are."""

from django.db import migrations

PACK_SIZE = 1_000
PACK_AMOUNT_CENTS = 500
PLANS = ("free", "education")


def give_packs(apps, schema_editor):
    Plan = apps.get_model("subscriptions", "Plan")
    Price = apps.get_model("subscriptions", "Price")
    Plan.objects.filter(code__in=PLANS, credit_pack_size=0).update(credit_pack_size=PACK_SIZE)
    Price.objects.filter(plan__code__in=PLANS, currency="EUR", credit_pack_amount=0).update(
        credit_pack_amount=PACK_AMOUNT_CENTS
    )


class Migration(migrations.Migration):
    dependencies = [("subscriptions", "0005_stripe_payments")]

    operations = [migrations.RunPython(give_packs, migrations.RunPython.noop)]
