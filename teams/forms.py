from django import forms
from django.utils.translation import gettext_lazy as _

from teams.models import SeatInterval


class SeatPeriodForm(forms.Form):
    interval = forms.ChoiceField(
        label=_("Billing period"),
        choices=SeatInterval.choices,
        error_messages={"invalid_choice": _("Choose weekly, monthly or annual billing.")},
    )
