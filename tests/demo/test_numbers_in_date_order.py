"""The demo history is built in date order across its workspaces, so the invoice numbers
follow the dates of issue (docs/rules/invoices.md#numbering, docs/demo.md)."""

import pytest
import time_machine
from django.core.management import call_command

from invoices.models import Invoice
from tests.subscriptions.conftest import at


@pytest.mark.django_db
def test_each_series_is_numbered_in_the_order_of_the_dates_of_issue(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    with time_machine.travel(at(2026, 11, 23, 12), tick=False):
        call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115

    documents = list(Invoice.objects.exclude(number=None).values_list("number", "issued_at"))
    by_number = sorted(documents)
    # The Studio bought on 1 January 2026 and Acme's renewals of 2026 share the INV-2026 series.
    assert any(number.startswith("INV-2026-") for number, _issued in documents)
    assert [issued for _number, issued in by_number if _number.startswith("INV-2026-")] == sorted(
        issued for number, issued in documents if number.startswith("INV-2026-")
    )
    assert [issued for _number, issued in by_number if _number.startswith("INV-2025-")] == sorted(
        issued for number, issued in documents if number.startswith("INV-2025-")
    )
