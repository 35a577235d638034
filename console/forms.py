"""The operators' action forms: each asks for a reason (kept in the audit trail)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from subscriptions.models import AddOn, Price

REASON = dict(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))


def cents(amount: Decimal) -> int:
    """An amount typed in the currency's unit (two decimals) as cents."""
    return int((amount * 100).to_integral_value())


class ReasonForm(forms.Form):
    reason = forms.CharField(**REASON)  # type: ignore[arg-type]


class CreditsForm(ReasonForm):
    credits = forms.IntegerField(
        label=_("Credits"),
        help_text=_("Positive to grant, negative to take back."),
        min_value=-1_000_000_000,
        max_value=1_000_000_000,
    )
    field_order = ("credits", "reason")

    def clean_credits(self) -> int:
        credits: int = self.cleaned_data["credits"]
        if credits == 0:
            raise forms.ValidationError(_("Give a number of credits other than zero."))
        return credits


class AmountForm(ReasonForm):
    amount = forms.DecimalField(
        label=_("Amount"), min_value=Decimal("0.01"), max_digits=12, decimal_places=2, localize=True
    )
    field_order = ("amount", "reason")


class BalanceForm(ReasonForm):
    DIRECTIONS = (
        ("credit", _("Credit the balance (the next invoices use it)")),
        ("debit", _("Take back from the balance")),
    )
    direction = forms.ChoiceField(label=_("Adjustment"), choices=DIRECTIONS, widget=forms.RadioSelect)
    amount = forms.DecimalField(
        label=_("Amount, VAT included"),
        min_value=Decimal("0.01"),
        max_digits=12,
        decimal_places=2,
        localize=True,
    )
    field_order = ("direction", "amount", "reason")

    def signed_cents(self) -> int:
        """The amount in cents, negative to take back."""
        amount = cents(self.cleaned_data["amount"])
        return amount if self.cleaned_data["direction"] == "credit" else -amount


class TrialForm(ReasonForm):
    days = forms.IntegerField(
        label=_("Days added to the trial"),
        min_value=1,
        max_value=90,
        help_text=_("The trial, and the first charge, move that many days later."),
    )
    field_order = ("days", "reason")


class PaymentForm(ReasonForm):
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=200,
        help_text=_("The bank transfer's or the cheque's reference."),
    )
    field_order = ("reference", "reason")


class SubscriptionForm(ReasonForm):
    ACTIONS = (
        ("change_plan", _("Change plan")),
        ("customize", _("Extra seats and add-ons")),
        ("cancel", _("Cancel at the end of the period")),
        ("reactivate", _("Reactivate")),
        ("expire", _("Expire now (fall back to the Free plan)")),
    )
    action = forms.ChoiceField(label=_("Change"), choices=ACTIONS)
    price = forms.ModelChoiceField(
        label=_("New plan"), queryset=Price.objects.none(), required=False, help_text=_("For a plan change.")
    )
    extra_seats = forms.IntegerField(
        label=_("Extra seats"),
        min_value=0,
        max_value=10_000,
        required=False,
        help_text=_("For extra seats and add-ons: the number wanted; empty keeps it."),
    )
    field_order = ("action", "price", "extra_seats", "reason")

    def __init__(
        self,
        *args: object,
        currency: str = "EUR",
        extra_seats: int = 0,
        addons: dict[str, int] | None = None,
        **kwargs: object,
    ) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.current_extra_seats = extra_seats
        self.current_addons = dict(addons or {})
        self.fields["price"].queryset = (  # type: ignore[attr-defined]
            Price.objects.filter(is_active=True, currency=currency, plan__is_public=True)
            .select_related("plan")
            .order_by("plan__rank", "interval")
        )
        self.fields["extra_seats"].widget.attrs["placeholder"] = str(extra_seats)
        for addon in AddOn.objects.filter(is_active=True, currency=currency).order_by("code"):
            field = forms.IntegerField(
                label=_("Add-on: %(name)s") % {"name": addon.name},
                min_value=0,
                max_value=100,
                required=False,
            )
            field.widget.attrs["placeholder"] = str(self.current_addons.get(addon.code, 0))
            self.fields[f"addon_{addon.code}"] = field
        self.order_fields(
            [*self.field_order[:-1], *(n for n in self.fields if n.startswith("addon_")), "reason"]
        )

    def clean(self) -> dict[str, object]:
        data = super().clean() or {}
        if data.get("action") == "change_plan" and not data.get("price"):
            self.add_error("price", _("Choose the new plan."))
        return data

    def customization(self) -> tuple[int, dict[str, int]]:
        """The extra seats and add-on quantities wanted (an empty field keeps what is held)."""
        data = self.cleaned_data
        extra = data.get("extra_seats")
        addons = dict(self.current_addons)
        for name, value in data.items():
            if name.startswith("addon_") and value is not None:
                addons[name.removeprefix("addon_")] = int(value)
        return (self.current_extra_seats if extra is None else int(extra)), addons
