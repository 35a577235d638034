"""Pages and files that show secrets or a workspace's documents are never stored by a
browser or proxy cache: Cache-Control no-store (docs/security.md#caching)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from invoices.models import Invoice
from tests.factories.subscriptions import subscribe

pytestmark = pytest.mark.django_db


def _directives(response) -> set[str]:
    return {directive.strip() for directive in response["Cache-Control"].split(",")}


@pytest.fixture
def invoice(workspace, owner) -> Invoice:
    subscribe(workspace, owner, "pro", now=datetime.now(UTC))
    return Invoice.objects.filter(workspace=workspace).latest("id")


def test_an_invoice_pdf_and_its_xml_are_not_stored(client, owner, workspace, invoice):
    client.force_login(owner.user)
    for name in ("invoice_pdf", "invoice_xml"):
        response = client.get(reverse(name, args=[workspace.pk, invoice.pk]))
        assert response.status_code == 200, name
        assert {"no-store", "private"} <= _directives(response), name


def test_the_invoices_csv_is_not_stored(client, owner, workspace, invoice):
    client.force_login(owner.user)
    response = client.get(reverse("invoices_export_csv", args=[workspace.pk]))

    assert response.status_code == 200
    assert invoice.number in response.content.decode()
    assert {"no-store", "private"} <= _directives(response)
