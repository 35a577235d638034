"""``manage.py operator_add EMAIL --group support|finance``: make a user an operator."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from console.groups import operator_add
from console.permissions import GROUPS
from workspaces.models import User


class Command(BaseCommand):
    help = "Add a user to an operator group (support or finance); they become staff."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("email")
        parser.add_argument("--group", required=True, choices=GROUPS)

    def handle(self, *args: Any, email: str, group: str, **options: Any) -> None:
        try:
            user = operator_add(email=email, group=group)
        except User.DoesNotExist as exc:
            raise CommandError(f"No user with the email {email}.") from exc
        self.stdout.write(f"{user.email} is now an operator in the {group} group.")
