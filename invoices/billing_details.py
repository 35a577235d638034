"""What a buyer's billing details must be (docs/rules/invoices.md#billing-details): a known
country, a VAT number whose format and check digits are right for its country (PyPI
``python-stdnum``), a SIREN or SIRET for a French buyer only, valid emails.

The EU's VIES online check is a hook, off by default (no network is assumed): set
``VAT_NUMBER_ONLINE_CHECK`` to the dotted path of a callable ``(vat_number) -> bool``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from babel import Locale
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.module_loading import import_string
from stdnum import get_cc_module
from stdnum.eu import vat as eu_vat
from stdnum.exceptions import ValidationError as NumberInvalid
from stdnum.fr import siren, siret
from stdnum.util import clean

from domain.vat import EU_COUNTRIES
from invoices import errors

#: Babel's territories that are not countries one can be established in.
_NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


def countries(language: str) -> list[tuple[str, str]]:
    """ISO 3166 alpha-2 countries, by name in ``language``."""
    names = Locale.parse(language).territories
    found = [
        (code, str(name))
        for code, name in names.items()
        if len(code) == 2 and code.isalpha() and code not in _NOT_COUNTRIES
    ]
    return sorted(found, key=lambda item: item[1])


def clean_country(country: str) -> str:
    code = country.strip().upper()
    if code not in {c for c, _name in countries("en")}:
        raise errors.CountryUnknown(field="country")
    return code


def vat_prefix(country: str) -> str:
    """The VAT number prefix of an EU country (Greece's is EL)."""
    return "EL" if country == "GR" else country


def clean_vat_number(number: str, country: str) -> str:
    """The number in its compact form (``DE136695976``), or a refusal: a wrong format or
    check digit, or another country's number. An EU number may be typed without its prefix."""
    compact = clean(number, " -./,").upper().strip()
    if not compact:
        return ""
    if country in EU_COUNTRIES:
        if compact[:2].isdigit():
            compact = vat_prefix(country) + compact
        try:
            compact = eu_vat.validate(compact)
        except NumberInvalid as exc:
            raise errors.VatNumberInvalid(field="vat_number") from exc
        if compact[:2] != vat_prefix(country):
            raise errors.VatNumberCountryMismatch(field="vat_number")
        online_check = str(getattr(settings, "VAT_NUMBER_ONLINE_CHECK", ""))
        if online_check and not cast(Callable[[str], bool], import_string(online_check))(compact):
            raise errors.VatNumberNotRegistered(field="vat_number")
        return compact
    module = get_cc_module(country.lower(), "vat")
    if module is not None:
        try:
            return str(module.validate(compact))
        except NumberInvalid as exc:
            raise errors.VatNumberInvalid(field="vat_number") from exc
    if not compact.isalnum() or len(compact) > 32:
        raise errors.VatNumberInvalid(field="vat_number")
    return compact


def clean_registration_number(number: str, country: str) -> str:
    """A French buyer's SIREN (9 digits) or SIRET (14), digits only, check digit verified."""
    digits = "".join(number.split())
    if not digits:
        return ""
    if country != "FR":
        raise errors.RegistrationNumberNotFrench(field="registration_number")
    try:
        return str(siren.validate(digits) if len(digits) <= 9 else siret.validate(digits))
    except NumberInvalid as exc:
        raise errors.RegistrationNumberInvalid(field="registration_number") from exc


def clean_emails(text: str, *, field: str) -> list[str]:
    """Addresses, one per line or separated by commas; each must be a valid email."""
    emails = [part.strip() for line in text.splitlines() for part in line.split(",") if part.strip()]
    for email in emails:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise errors.BillingEmailInvalid(field=field) from exc
    return list(dict.fromkeys(emails))
