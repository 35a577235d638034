from django import forms
from django.utils.translation import gettext_lazy as _

from workspaces.models import Role

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
        if not country.isalpha():
            raise forms.ValidationError(_("Use a two-letter country code, such as FR."))
        return country


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("Email address"))
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLES, initial=Role.MEMBER)


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Role"), choices=INVITABLE_ROLES)
