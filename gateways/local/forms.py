"""Input validation of the local secure payment page, with clear (French) messages."""

from __future__ import annotations

from datetime import date
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from gateways.local.gateway import TEST_CARDS, card_expired, luhn_valid

CARD_NUMBER_INVALID = _("This card number is not valid. Check the digits.")
CARD_NOT_A_TEST_CARD = _(
    "This payment page only accepts test cards, such as 4242 4242 4242 4242 (accepted) "
    "or 4000 0000 0000 0002 (declined)."
)
EXPIRY_INVALID = _("Enter the expiry date as MM/YY, for example 12/29.")
CARD_EXPIRED = _("This card has expired.")
CVC_INVALID = _("The security code (CVC) has 3 or 4 digits.")


class CardForm(forms.Form):
    number = forms.CharField(
        label=_("Card number"),
        max_length=32,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "cc-number", "placeholder": "4242 4242 4242 4242"}
        ),
    )
    expiry = forms.CharField(
        label=_("Expiry date (MM/YY)"),
        max_length=7,
        widget=forms.TextInput(attrs={"autocomplete": "cc-exp", "placeholder": "12/29"}),
    )
    cvc = forms.CharField(
        label=_("Security code (CVC)"),
        max_length=4,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "cc-csc", "placeholder": "123"}
        ),
    )

    def __init__(self, *args: Any, today: date, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean_number(self) -> str:
        digits = "".join(ch for ch in self.cleaned_data["number"] if ch not in " -")
        if (
            not (digits.isascii() and digits.isdigit())
            or not 12 <= len(digits) <= 19
            or not luhn_valid(digits)
        ):
            raise forms.ValidationError(CARD_NUMBER_INVALID)
        if digits not in TEST_CARDS:
            raise forms.ValidationError(CARD_NOT_A_TEST_CARD)
        return digits

    def clean_expiry(self) -> tuple[int, int]:
        raw = self.cleaned_data["expiry"].replace(" ", "")
        month_text, _sep, year_text = raw.partition("/")
        if not (raw.isascii() and month_text.isdigit() and year_text.isdigit() and len(year_text) in (2, 4)):
            raise forms.ValidationError(EXPIRY_INVALID)
        month, year = int(month_text), int(year_text)
        if len(year_text) == 2:
            year += 2000
        if not 1 <= month <= 12:
            raise forms.ValidationError(EXPIRY_INVALID)
        if card_expired(month, year, self.today):
            raise forms.ValidationError(CARD_EXPIRED)
        return month, year

    def clean_cvc(self) -> str:
        cvc: str = self.cleaned_data["cvc"].strip()
        if not (cvc.isascii() and cvc.isdigit()) or not 3 <= len(cvc) <= 4:
            raise forms.ValidationError(CVC_INVALID)
        return cvc
