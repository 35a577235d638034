"""``manage.py create_api_key``: prints the key alone on its last line; clear errors."""

from __future__ import annotations

import io
import uuid

import pytest
from django.core.management import CommandError, call_command

from credits import apikeys
from credits.models import ApiKey


def _run(*args):
    out = io.StringIO()
    call_command("create_api_key", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_prints_a_working_key_alone_on_its_last_line(workspace, other_workspace):
    output = _run("--workspace", str(workspace.pk), "--name", "CI")
    last_line = output.rstrip("\n").splitlines()[-1]
    assert last_line.startswith("sck_")
    assert " " not in last_line
    key = apikeys.api_key_authenticate(key=last_line)
    assert (key.workspace_id, key.name, key.created_by) == (workspace.pk, "CI", None)
    assert ApiKey.objects.filter(workspace=other_workspace).count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workspace", "not-a-uuid", "--name", "CI"], "is not a workspace id"),
        (["--workspace", str(uuid.UUID(int=7)), "--name", "CI"], "No workspace with id"),
        (["--workspace", "{ws}", "--name", "   "], "Give the key a name"),
    ],
)
def test_clear_errors_and_nothing_created(workspace, args, message):
    args = [a.format(ws=workspace.pk) for a in args]
    with pytest.raises(CommandError, match=message):
        _run(*args)
    assert not ApiKey.objects.exists()
