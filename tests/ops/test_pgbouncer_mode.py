"""Behind PgBouncer in transaction mode (docs/scaling.md#postgresql) the credit hot path
prepares no statement on the server; by default it prepares its charge once per connection."""

from __future__ import annotations

import pytest
from django.db import connection
from django.utils import timezone

from credits import services
from tests.factories import MembershipFactory
from workspaces.models import Role

pytestmark = pytest.mark.django_db(transaction=True)


def _prepared_after_consumes(workspace) -> int:
    member = MembershipFactory(workspace=workspace, role=Role.MEMBER)
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    connection.close()  # a new server session: nothing prepared yet
    for number in range(8):
        services.credits_consume(
            workspace=workspace, actor=member, action="summarize", quantity=1, idempotency_key=f"k{number}"
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements")
        return int(cursor.fetchone()[0])


def test_the_hot_path_prepares_its_statements_by_default(workspace):
    assert _prepared_after_consumes(workspace) >= 1


def test_pgbouncer_transaction_mode_prepares_nothing(workspace, settings):
    settings.CREDITS_PREPARED_STATEMENTS = False
    assert _prepared_after_consumes(workspace) == 0
