"""French is the product's default language: every message the payment code can show a
payer (the card and confirmation pages, declines, the emails, the refusals) has its
French translation in the compiled catalogs. The messages are read from the code itself,
so a new one is checked as soon as it is written."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from django.conf import settings
from django.utils import translation
from django.utils.translation.template import templatize

SOURCES = [
    "gateways/base.py",
    "gateways/stripe/client.py",
    "gateways/stripe/gateway.py",
    "gateways/stripe/pages.py",
    "gateways/stripe/templates/gateways/stripe/card_setup.html",
    "gateways/stripe/templates/gateways/stripe/charge_authenticate.html",
    "billing/services/payments.py",
    "billing/services/pending.py",
    "billing/templates/billing/email/payment_action_required.txt",
    "subscriptions/errors.py",
]

KEYWORDS = {
    **DEFAULT_KEYWORDS,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext_lazy": (1, 2),
    "pgettext_lazy": ((1, "c"), 2),
}


def messages_in(relative: str) -> list[tuple[str | tuple[str, ...], str | None]]:
    path = Path(settings.BASE_DIR) / relative
    source = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        # Django's reading of a template for makemessages; its filler is not indented like
        # Python, and only the gettext calls matter.
        source = "\n".join(line.lstrip() for line in templatize(source, origin=str(path)).splitlines())
    return [
        (message, context)
        for _line, message, _comments, context in extract(
            "python", BytesIO(source.encode()), keywords=KEYWORDS
        )
    ]


def untranslated(message: str | tuple[str, ...], context: str | None) -> bool:
    with translation.override("fr"):
        if isinstance(message, tuple):
            singular, plural = message[:2]
            return translation.ngettext(singular, plural, 1) == singular or (
                translation.ngettext(singular, plural, 2) == plural
            )
        if context:
            return translation.pgettext(context, message) == message
        return translation.gettext(message) == message


@pytest.mark.parametrize("source", SOURCES)
def test_every_message_of_the_payment_code_is_translated_into_french(source):
    found = messages_in(source)

    assert found, f"no translatable message found in {source}"
    assert [message for message, context in found if untranslated(message, context)] == []


def test_the_checks_own_reading_finds_template_and_plural_messages():
    assert ("Confirm the payment:", None) in messages_in(
        "billing/templates/billing/email/payment_action_required.txt"
    )
    assert (
        (
            "%(count)s unpaid invoice has been paid with this card.",
            "%(count)s unpaid invoices have been paid with this card.",
        ),
        None,
    ) in messages_in("gateways/stripe/pages.py")
