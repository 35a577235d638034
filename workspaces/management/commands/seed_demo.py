from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from workspaces import demo


class Command(BaseCommand):
    help = "Create (or refresh) the demo users and workspaces. Safe to run repeatedly."

    def handle(self, *args: object, **options: object) -> None:
        acme = demo.seed_acme()
        base = settings.SITE_URL.rstrip("/")
        self.stdout.write(f"Demo users: {', '.join(demo.ACME_USERS)} (password {demo.DEMO_PASSWORD})")
        self.stdout.write(f"Acme: {base}{reverse('workspace_home', args=[acme.pk])}")
