"""Input of the subscription pages: what the member chose, checked, with clear messages.

Every confirmation form carries the preview's ``fingerprint`` (what is charged is what
was shown, see :mod:`billing.services.core`) and a one-time ``token`` that makes a
double submit replay the first result instead of running twice.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from subscriptions.models import CancelReason

#: One purchase buys at most this many credit packs (the billing engine's own bound).
MAX_CREDIT_PACKS = 1_000

COMMENT_REQUIRED = _("Tell us more in a few words when the reason is “Other”.")
REASON_REQUIRED = _("Choose one of the cancellation reasons.")


def new_token() -> str:
    return uuid.uuid4().hex


class _Confirmation(forms.Form):
    token = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    fingerprint = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)


class PlanChoiceForm(forms.Form):
    """Which price the member picked on the plan selection page (query string)."""

    price = forms.IntegerField(min_value=1)
    trial = forms.BooleanField(required=False)


class PlanConfirmForm(_Confirmation):
    price = forms.IntegerField(min_value=1, widget=forms.HiddenInput)
    trial = forms.BooleanField(required=False, widget=forms.HiddenInput)


class CustomizeForm(_Confirmation):
    """Extra seats (the new total bought beyond the included ones) and credit packs to buy."""

    def __init__(self, *args: Any, max_extra_seats: int, credits_label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["extra_seats"] = forms.IntegerField(
            label=_("Extra seats"),
            min_value=0,
            max_value=max_extra_seats,
            error_messages={
                "invalid": _("Enter a whole number of seats."),
                "max_value": _("At most %(limit_value)s extra seats on this plan."),
            },
            widget=forms.NumberInput(attrs={"min": 0, "max": max_extra_seats, "inputmode": "numeric"}),
        )
        self.fields["credit_packs"] = forms.IntegerField(
            label=credits_label,
            min_value=0,
            max_value=MAX_CREDIT_PACKS,
            initial=0,
            error_messages={"invalid": _("Enter a whole number.")},
            widget=forms.NumberInput(attrs={"min": 0, "max": MAX_CREDIT_PACKS, "inputmode": "numeric"}),
        )


class CancelForm(forms.Form):
    token = forms.CharField(max_length=64, required=False, widget=forms.HiddenInput)
    reason = forms.ChoiceField(
        choices=CancelReason.choices,
        widget=forms.RadioSelect,
        error_messages={"required": REASON_REQUIRED, "invalid_choice": REASON_REQUIRED},
    )
    comment = forms.CharField(
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("reason") == CancelReason.OTHER and not (cleaned.get("comment") or "").strip():
            self.add_error("comment", COMMENT_REQUIRED)
        return cleaned


class ActionForm(_Confirmation):
    """A confirmation without other input (annual switch, reactivation)."""


class BillingDetailsForm(forms.Form):
    """Who the workspace's documents are made out to (docs/rules/invoices.md#billing-details).
    The VAT number, SIREN/SIRET and emails are checked by the service, which names the
    field it refuses."""

    legal_name = forms.CharField(
        label=pgettext_lazy("billing details", "Legal name"), max_length=200, required=False
    )
    street = forms.CharField(
        label=pgettext_lazy("billing details", "Address"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    postal_code = forms.CharField(
        label=pgettext_lazy("billing details", "Postal code"), max_length=16, required=False
    )
    city = forms.CharField(label=pgettext_lazy("billing details", "City"), max_length=100, required=False)
    country = forms.ChoiceField(label=pgettext_lazy("billing details", "Country"))
    billing_email = forms.CharField(
        label=pgettext_lazy("billing details", "Billing email"), max_length=254, required=False
    )
    extra_emails = forms.CharField(
        label=pgettext_lazy("billing details", "Other billing emails (one per line)"),
        required=False,
        max_length=2_000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    vat_number = forms.CharField(
        label=pgettext_lazy("billing details", "VAT number"), max_length=32, required=False
    )
    registration_number = forms.CharField(
        label=pgettext_lazy("billing details", "SIREN or SIRET (French companies)"),
        max_length=20,
        required=False,
    )
    purchase_order = forms.CharField(
        label=pgettext_lazy("billing details", "Purchase order reference"), max_length=100, required=False
    )
    language = forms.ChoiceField(label=pgettext_lazy("billing details", "Language of the invoices"))

    def __init__(
        self,
        *args: Any,
        countries: list[tuple[str, str]],
        languages: list[tuple[str, str]],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["country"]).choices = countries
        cast(forms.ChoiceField, self.fields["language"]).choices = languages
