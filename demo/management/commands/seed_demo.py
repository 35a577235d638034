from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse
from django.utils import timezone

from demo.acme import acme_billing_history, acme_joined
from demo.credits import seed_acme_credits
from demo.studio import studio_history
from demo.timeline import play
from workspaces import demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo users and workspaces. Safe to run repeatedly."

    def handle(self, *args: object, **options: object) -> None:
        now = timezone.now()
        acme = demo.seed_acme(joined=acme_joined(now=now))
        studio, studio_events = studio_history(now=now)
        # Both workspaces' histories in one timeline: numbers follow the dates of issue.
        play(acme_billing_history(acme, now=now), studio_events)
        # Last of the Acme seeds: the credit allowance depends on the plan.
        seed_acme_credits(acme, now=now)
        base = settings.SITE_URL.rstrip("/")
        self.stdout.write(f"Demo users: {', '.join(demo.ACME_USERS)} (password {demo.DEMO_PASSWORD})")
        self.stdout.write(f"Acme: {base}{reverse('workspace_home', args=[acme.pk])}")
        self.stdout.write(f"Studio: {base}{reverse('workspace_home', args=[studio.pk])}")
