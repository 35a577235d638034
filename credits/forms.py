"""Forms of the credit pages: input validation and clear messages only."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from credits.models import ActionType, ApiScope, default_api_scopes

#: The page lets a member generate up to this many prototype screens at once.
MAX_PAGE_QUANTITY = 20


def new_idempotency_key() -> str:
    return uuid.uuid4().hex


class AiActionForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), widget=forms.RadioSelect)
    quantity = forms.IntegerField(
        label=_("Quantity (e.g. number of prototype screens)"),
        min_value=1,
        max_value=MAX_PAGE_QUANTITY,
        initial=1,
    )
    simulate_failure = forms.BooleanField(label=_("Simulate a failure of the AI"), required=False)
    # A fresh key per displayed form: a double submission is charged once.
    idempotency_key = forms.CharField(max_length=64, widget=forms.HiddenInput, initial=new_idempotency_key)

    def __init__(self, *args: Any, actions: list[ActionType], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.actions = actions
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(a.code, a.label) for a in actions]
        if actions:
            field.initial = actions[0].code


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("Key name"), max_length=80)
    scopes = forms.MultipleChoiceField(
        label=_("The key may"),
        choices=ApiScope.choices,
        initial=default_api_scopes,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "required": _("Choose what the key may do: read the balance, consume credits, or both.")
        },
    )
    expires_on = forms.DateField(
        label=_("Valid until (optional)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "The key is refused from the next day on. Leave empty for a key that works until revoked."
        ),
    )

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the key a name."))
        return name

    def expires_at(self) -> datetime | None:
        """The first instant the key is refused: the day after ``expires_on``, at midnight in
        the reader's time zone."""
        day: date | None = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=timezone.get_current_timezone())
