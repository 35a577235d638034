"""What a confirmation did, said once: a money-moving POST runs once per one-time token
and a double submit replays the first outcome (docs/rules/lifecycle.md#one-operation-per-confirmation).

Every money-moving POST is also CSRF-protected (Django's middleware), permission-checked
(``workspace_view`` and the billing services again) and confirms the exact preview it
showed, by its fingerprint (docs/rules/lifecycle.md#previews).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.contrib import messages
from django.core.cache import cache
from django.utils.translation import gettext as _

from billing.pages import display
from billing.services.core import ApplyResult
from invoices.models import DocumentType, InvoiceStatus
from workspaces.access import WorkspaceRequest
from workspaces.errors import DomainError

#: A double submit waits at most this long for the first request's result.
REPLAY_WAIT_SECONDS = 10.0
#: How long a confirmation's result is remembered for replay.
RESULT_TTL_SECONDS = 24 * 3600
_PENDING = "pending"


@dataclass(frozen=True)
class Outcome:
    """What a confirmation did, as a flash message; remembered for a double submit."""

    level: int
    message: str
    #: What the message offers to do next: "card" links to the card page (the payment
    #: was declined, or a card is needed).
    action: str = ""

    @property
    def extra_tags(self) -> str:
        return f"action-{self.action}" if self.action else ""


def error_message(exc: DomainError) -> str:
    return str(exc.message)


def error_outcome(exc: DomainError) -> Outcome:
    """A refusal as a flash message; one that needs a card links to the card page."""
    return Outcome(messages.ERROR, error_message(exc), action="card" if needs_card(exc) else "")


def needs_card(exc: DomainError) -> bool:
    return exc.code in ("payment_method_required", "card_declined", "subscription_past_due")


def run_once(request: WorkspaceRequest, action: str, token: str, run: Callable[[], Outcome]) -> Outcome:
    """Run ``run`` once per ``token``: a second submit of the same form (double click,
    reload of the POST) replays the first outcome instead of running again."""
    if not token:
        return run()
    key = f"subscription-page:{request.workspace.pk}:{request.membership.pk}:{action}:{token}"
    if cache.add(key, _PENDING, timeout=int(REPLAY_WAIT_SECONDS * 6)):
        try:
            outcome = run()
        except BaseException:
            cache.delete(key)
            raise
        cache.set(key, asdict(outcome), timeout=RESULT_TTL_SECONDS)
        return outcome
    deadline = time.monotonic() + REPLAY_WAIT_SECONDS
    while True:
        stored = cache.get(key)
        if isinstance(stored, dict):
            return Outcome(**stored)
        if stored is None:  # the first attempt failed and released the token: run again
            return run_once(request, action, token, run)
        if time.monotonic() > deadline:
            return Outcome(messages.INFO, _("Your request is being processed. Reload the page in a moment."))
        time.sleep(0.1)


def payment_sentence(result: ApplyResult) -> str:
    """What happened to the money: invoice charged, payment failed, or account credit."""
    parts = []
    currency = result.preview.currency
    if result.invoice is not None and result.invoice.document_type == DocumentType.CREDIT_NOTE:
        parts.append(
            _(
                "Credit note %(number)s: %(amount)s credited to your account balance, applied to your next invoice."
            )
            % {
                "number": result.invoice.number,
                "amount": display.money(-result.invoice.total_cents, currency),
            }
        )
        return " ".join(parts)
    if result.invoice is not None:
        if result.payment is not None and not result.payment.succeeded:
            parts.append(
                _("The payment of invoice %(number)s failed: %(reason)s Update the payment method.")
                % {"number": result.invoice.number, "reason": result.payment.message}
            )
        else:
            parts.append(
                _("Invoice %(number)s: %(amount)s paid.")
                % {
                    "number": result.invoice.number,
                    "amount": display.money(result.invoice.total_cents, currency),
                }
            )
    if result.account_credit_cents:
        parts.append(
            _("%(amount)s credited to your account balance, applied to your next invoice.")
            % {"amount": display.money(result.account_credit_cents, currency)}
        )
    return " ".join(parts)


def outcome_of(result: ApplyResult, headline: str) -> Outcome:
    """The headline and what happened to the money; a warning when the payment failed.

    A declined change is not applied (docs/rules/lifecycle.md#pay-then-apply): the
    message then says so instead of the headline."""
    failed = result.payment is not None and not result.payment.succeeded
    if result.payment is not None and result.payment.requires_action and result.invoice is not None:
        return Outcome(
            level=messages.WARNING,
            message=_(
                "Your bank asks you to confirm the payment of %(amount)s (invoice %(number)s). "
                "The change is made once it is confirmed: use the link we emailed you, or "
                '"Confirm the payment" in Billing, within 23 hours.'
            )
            % {
                "amount": display.money(result.invoice.amount_due_cents, result.preview.currency),
                "number": result.invoice.number,
            },
        )
    if failed and result.invoice is not None and result.invoice.status == InvoiceStatus.VOID:
        assert result.payment is not None
        return Outcome(
            level=messages.ERROR,
            message=_(
                "Nothing was changed: the payment of %(amount)s was declined (%(reason)s). "
                "Update the payment method, then try again."
            )
            % {
                "amount": display.money(result.invoice.total_cents, result.preview.currency),
                "reason": result.payment.message.rstrip("."),
            },
            action="card",
        )
    sentence = payment_sentence(result)
    return Outcome(
        level=messages.WARNING if failed else messages.SUCCESS,
        message=f"{headline} {sentence}".strip(),
        action="card" if failed else "",
    )
