"""Billing writes (SPEC.md "Subscription lifecycle", "Proration rule", "Payment gateway").

``lifecycle`` holds the preview/apply pairs, ``payments`` charging, dunning, the local
card page's writes and the hooks the invoices app calls, ``renewals`` the set-based
renewal run of the sweep.
"""

from billing.services.core import ApplyResult, PaymentOutcome, Preview
from billing.services.lifecycle import (
    apply_cancel,
    apply_change_plan,
    apply_customize,
    apply_end_trial,
    apply_expire,
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
    preview_reactivate,
    preview_renew,
    preview_subscribe,
    preview_switch_to_annual,
    subscription_start_free,
)
from billing.services.payments import (
    charge_invoice,
    dunning_claim,
    on_invoice_paid,
    on_invoice_refunded,
    payment_method_save,
    record_payment_failure,
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
    "apply_reactivate",
    "apply_renew",
    "apply_subscribe",
    "apply_switch_to_annual",
    "charge_invoice",
    "dunning_claim",
    "expire_after_dunning",
    "expire_if_due",
    "on_invoice_paid",
    "on_invoice_refunded",
    "payment_method_save",
    "preview_cancel",
    "preview_change_plan",
    "preview_customize",
    "preview_end_trial",
    "preview_expire",
    "preview_reactivate",
    "preview_renew",
    "preview_subscribe",
    "preview_switch_to_annual",
    "record_payment_failure",
    "subscription_start_free",
]
