from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from demo.acme import seed_acme_billing
from demo.credits import seed_acme_credits
from demo.studio import seed_studio
from workspaces import demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo users and workspaces. Safe to run repeatedly."

    def handle(self, *args: object, **options: object) -> None:
        acme = demo.seed_acme()
        seed_acme_billing(acme)
        # Last of the Acme seeds: the credit allowance depends on the plan.
        seed_acme_credits(acme)
        studio = seed_studio()
        base = settings.SITE_URL.rstrip("/")
        self.stdout.write(f"Demo users: {', '.join(demo.ACME_USERS)} (password {demo.DEMO_PASSWORD})")
        self.stdout.write(f"Acme: {base}{reverse('workspace_home', args=[acme.pk])}")
        self.stdout.write(f"Studio: {base}{reverse('workspace_home', args=[studio.pk])}")
