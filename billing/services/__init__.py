"""Billing writes (docs/rules/lifecycle.md, docs/rules/proration.md, docs/rules/dunning.md).

``core`` holds previews and the locked context, ``changes`` what each operation
computes, ``lifecycle`` the preview/apply pairs, ``settlement`` the one path that issues
and settles invoices, ``payments`` charging and saving a card, ``dunning`` what a declined charge does, ``collection`` a charge and its
consequence, ``renewals`` the set-based renewal run of the sweep.
"""

from billing.services.collection import collect
from billing.services.core import ApplyResult, PaymentOutcome, Preview, subscription_start_free
from billing.services.dunning import claim_attempt, record_payment_failure
from billing.services.lifecycle import (
    apply_cancel,
    apply_change_plan,
    apply_customize,
    apply_end_trial,
    apply_expire,
    apply_extend_trial,
    apply_reactivate,
    apply_renew,
    apply_subscribe,
    apply_switch_to_annual,
    expire_after_dunning,
    expire_if_due,
    preview_cancel,
    preview_change_plan,
    preview_customize,
    preview_end_trial,
    preview_expire,
    preview_extend_trial,
    preview_reactivate,
    preview_renew,
    preview_subscribe,
    preview_switch_to_annual,
)
from billing.services.payments import charge_invoice, payment_method_save
from billing.services.settlement import (
    invoice_issue,
    invoice_pay,
    invoice_refund,
    invoices_issue,
    settle_paid,
    settle_refunded,
)

__all__ = [
    "ApplyResult",
    "PaymentOutcome",
    "Preview",
    "apply_cancel",
    "apply_change_plan",
    "apply_customize",
    "apply_end_trial",
    "apply_expire",
    "apply_extend_trial",
    "apply_reactivate",
    "apply_renew",
    "apply_subscribe",
    "apply_switch_to_annual",
    "charge_invoice",
    "claim_attempt",
    "expire_after_dunning",
    "expire_if_due",
    "collect",
    "invoice_issue",
    "invoice_pay",
    "invoice_refund",
    "invoices_issue",
    "settle_paid",
    "settle_refunded",
    "payment_method_save",
    "preview_cancel",
    "preview_change_plan",
    "preview_customize",
    "preview_end_trial",
    "preview_expire",
    "preview_extend_trial",
    "preview_reactivate",
    "preview_renew",
    "preview_subscribe",
    "preview_switch_to_annual",
    "record_payment_failure",
    "subscription_start_free",
]
