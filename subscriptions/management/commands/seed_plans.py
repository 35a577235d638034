from django.core.management.base import BaseCommand

from subscriptions.catalog import load_demo_catalog
from subscriptions.models import AddOn, Plan, Price


class Command(BaseCommand):
    help = "Create the demo catalog's missing plans, prices and add-ons (never overwrites)."

    def handle(self, *args: object, **options: object) -> None:
        load_demo_catalog(Plan, Price, AddOn)
        self.stdout.write(
            f"{Plan.objects.count()} plans, {Price.objects.count()} prices, {AddOn.objects.count()} add-ons."
        )
