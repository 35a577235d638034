"""``python manage.py create_api_key --workspace <id> --name <name>``: prints the key alone
on its last line (shown once, stored hashed)."""

from __future__ import annotations

import uuid
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credits import apikeys
from workspaces.models import Workspace


class Command(BaseCommand):
    help = "Create a metering API key for a workspace and print it (it is shown only once)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="The workspace's id (UUID).")
        parser.add_argument("--name", required=True, help="A name to recognise the key by.")

    def handle(self, *args: Any, **options: Any) -> None:
        raw_id = str(options["workspace"]).strip()
        try:
            workspace_id = uuid.UUID(raw_id)
        except ValueError as exc:
            raise CommandError(
                f"'{raw_id}' is not a workspace id: expected a UUID such as {uuid.UUID(int=0)}."
            ) from exc
        workspace = Workspace.objects.filter(pk=workspace_id).first()
        if workspace is None:
            raise CommandError(f"No workspace with id {workspace_id}.")
        name = str(options["name"]).strip()
        if not name:
            raise CommandError("Give the key a name with --name.")
        api_key, key = apikeys.api_key_create(workspace=workspace, actor=None, name=name)
        self.stdout.write(f"API key “{api_key.name}” created for {workspace.name} ({workspace.pk}).")
        self.stdout.write("Store it now: it is shown only once.")
        self.stdout.write(key)
