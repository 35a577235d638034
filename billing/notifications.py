"""Billing emails to the owner, admins and billing email (plain text, French by default):
payment failed (each attempt, with the next one's date), subscription expired, trial
ending in 3 days. The receipt on payment is the invoices app's.
"""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from domain.calendar import day_of
from invoices.models import Invoice
from subscriptions import selectors
from subscriptions.models import PaymentMethod, Subscription
from workspaces.formatting import format_date, format_moment, format_money
from workspaces.models import Workspace
from workspaces.selectors import billing_contacts


def _workspace_url(workspace: Workspace) -> str:
    return str(settings.SITE_URL).rstrip("/") + reverse("workspace_home", args=[workspace.pk])


def _send(workspace: Workspace, subject: str, template: str, context: dict[str, object]) -> bool:
    recipients = billing_contacts(workspace)
    if not recipients:
        return False
    body = render_to_string(template, {"workspace": workspace, "url": _workspace_url(workspace), **context})
    EmailMessage(subject=subject, body=body, to=recipients).send()
    return True


def send_payment_failed(
    *, workspace: Workspace, invoice: Invoice, next_attempt_at: datetime | None, reason: str
) -> bool:
    with translation.override(settings.LANGUAGE_CODE):
        locale = settings.LANGUAGE_CODE
        return _send(
            workspace,
            _("Payment failed — %(workspace)s") % {"workspace": workspace.name},
            "billing/email/payment_failed.txt",
            {
                "number": invoice.number,
                "amount": format_money(invoice.amount_due_cents, invoice.currency, locale),
                "reason": reason,
                "next_attempt": format_date(next_attempt_at.date(), locale, "long")
                if next_attempt_at
                else "",
            },
        )


def send_payment_action_required(
    *, workspace: Workspace, invoice: Invoice, lapses_at: datetime | None
) -> bool:
    """The bank asks the payer to confirm a charge: the link to our page that completes it
    (docs/rules/payments.md#authentication)."""
    with translation.override(settings.LANGUAGE_CODE):
        locale = settings.LANGUAGE_CODE
        page = reverse("stripe_charge_authenticate", args=[workspace.pk, invoice.pk])
        return _send(
            workspace,
            _("Confirm your payment — %(workspace)s") % {"workspace": workspace.name},
            "billing/email/payment_action_required.txt",
            {
                "number": invoice.number,
                "amount": format_money(invoice.amount_due_cents, invoice.currency, locale),
                "authenticate_url": str(settings.SITE_URL).rstrip("/") + page,
                "lapses_at": format_moment(lapses_at, workspace.billing_zone, locale) if lapses_at else "",
            },
        )


def send_card_expiring(*, workspace: Workspace, method: PaymentMethod) -> bool:
    with translation.override(settings.LANGUAGE_CODE):
        return _send(
            workspace,
            _("Your card expires soon — %(workspace)s") % {"workspace": workspace.name},
            "billing/email/card_expiring.txt",
            {
                "brand": method.brand,
                "last4": method.last4,
                "expiry": f"{method.exp_month:02d}/{method.exp_year}",
            },
        )


def send_subscription_expired(*, workspace: Workspace, plan_name: str) -> bool:
    with translation.override(settings.LANGUAGE_CODE):
        return _send(
            workspace,
            _("Your subscription has ended — %(workspace)s") % {"workspace": workspace.name},
            "billing/email/subscription_expired.txt",
            {"plan_name": plan_name},
        )


def send_trial_ending(*, subscription: Subscription) -> bool:
    workspace = subscription.workspace
    with translation.override(settings.LANGUAGE_CODE):
        locale = settings.LANGUAGE_CODE
        assert subscription.trial_end is not None
        has_card = selectors.payment_method_of(workspace) is not None
        return _send(
            workspace,
            _("Your trial ends in 3 days — %(workspace)s") % {"workspace": workspace.name},
            "billing/email/trial_ending.txt",
            {
                "plan_name": subscription.plan.name,
                "trial_end": format_date(
                    day_of(subscription.trial_end, workspace.billing_zone), locale, "long"
                ),
                "has_card": has_card,
            },
        )
