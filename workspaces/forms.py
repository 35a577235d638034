from babel import Locale
from django import forms
from django.utils.translation import gettext_lazy as _

from workspaces.models import Role
from workspaces.time_zones import DEFAULT_BILLING_TIME_ZONE, UNKNOWN_TIME_ZONE, billing_time_zones

#: Country codes known to CLDR (Babel), e.g. FR, DE, US, without its groupings and
#: placeholders (European Union, Eurozone, United Nations, Outlying Oceania, Unknown, pseudo-locales).
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "ZZ", "XA", "XB"})
COUNTRY_CODES = frozenset(
    code
    for code in map(str, Locale("en").territories)
    if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
)

INVITABLE_ROLES = [(value, label) for value, label in Role.choices if value != Role.OWNER]


class WorkspaceCreateForm(forms.Form):
    name = forms.CharField(label=_("Workspace name"), max_length=120)
    country = forms.CharField(label=_("Country (ISO code)"), max_length=2, min_length=2, initial="FR")

    def clean_name(self) -> str:
        name: str = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError(_("Give the workspace a name."))
        return name

    def clean_country(self) -> str:
        country: str = self.cleaned_data["country"].strip().upper()
        if not (country.isascii() and country.isalpha() and country in COUNTRY_CODES):
            raise forms.ValidationError(_("Use a two-letter country code, such as FR."))
        return country


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLES, initial=Role.MEMBER)


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLES)


class BillingTimeZoneForm(forms.Form):
    """The workspace's billing time zone (docs/rules/billing-calendar.md#billing-time-zone)."""

    billing_time_zone = forms.ChoiceField(
        label=_("Billing time zone"),
        choices=lambda: [(name, name) for name in billing_time_zones()],
        initial=DEFAULT_BILLING_TIME_ZONE,
        error_messages={"invalid_choice": UNKNOWN_TIME_ZONE, "required": _("Choose a billing time zone.")},
    )
