"""Forms of the credit pages: input validation and clear messages only."""

from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from credits.models import ActionType

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

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the key a name."))
        return name
