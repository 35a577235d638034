"""Rules the billing services enforce; messages are constants tests import.

Every error leaves the database as it was: services validate before they write, and
they write inside one transaction.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from workspaces.errors import DomainError


class BillingError(DomainError):
    code = "billing_error"


class StalePreview(BillingError):
    code = "stale_preview"
    message = _("The conditions have changed, check the new amount")


class UnknownPlan(BillingError):
    code = "unknown_plan"
    message = _("This plan or price does not exist or is no longer sold.")


class PriceCurrencyMismatch(BillingError):
    code = "price_currency_mismatch"
    message = _("This price is not in the workspace's currency.")


class IntervalMismatch(BillingError):
    code = "interval_mismatch"
    message = _("A plan change keeps the billing period. Use the switch to annual billing to change it.")


class AnnualLocked(BillingError):
    code = "annual_locked"
    message = _("The switch to annual billing cannot be reversed before the end of the annual period.")


class AlreadyAnnual(BillingError):
    code = "already_annual"
    message = _("This subscription is already billed annually.")


class AnnualSwitchUnavailable(BillingError):
    code = "annual_switch_unavailable"
    message = _("Only a monthly subscription with an annual price can switch to annual billing.")


class SamePlan(BillingError):
    code = "same_plan"
    message = _("This is already your plan.")


class NotSubscribed(BillingError):
    code = "not_subscribed"
    message = _("This workspace has no paid subscription.")


class AlreadySubscribed(BillingError):
    code = "already_subscribed"
    message = _("This workspace already has a paid subscription: change the plan instead.")


class FreePlanNotSellable(BillingError):
    code = "free_plan_not_sellable"
    message = _("The Free plan is not bought: cancel the subscription to return to it.")


class SubscriptionNotChangeable(BillingError):
    code = "subscription_not_changeable"
    message = _("A cancelled subscription cannot be changed. Reactivate it first.")


class SubscriptionPastDue(BillingError):
    code = "subscription_past_due"
    message = _(
        "An invoice is unpaid. Pay it with “Pay now” in Billing, or save another card, before "
        "changing the subscription."
    )


class TrialUnavailable(BillingError):
    code = "trial_unavailable"
    message = _("This plan has no free trial.")


class TrialAlreadyUsed(BillingError):
    code = "trial_already_used"
    message = _("This workspace has already had a free trial.")


class NotTrialing(BillingError):
    code = "not_trialing"
    message = _("This subscription is not in a trial.")


class TrialExtensionInvalid(BillingError):
    code = "trial_extension_invalid"
    message = _("A trial is extended by 1 to 90 days.")


class PaymentMethodRequired(BillingError):
    code = "payment_method_required"
    message = _("Add a payment method before buying: nothing was charged.")


class SeatCountInvalid(BillingError):
    code = "seat_count_invalid"
    message = _("The number of extra seats must be a whole number between 0 and the plan's member limit.")


class CreditPacksInvalid(BillingError):
    code = "credit_packs_invalid"
    message = _("The number of extra credit packs must be a whole number between 0 and 1,000.")


class ExtrasUnavailable(BillingError):
    code = "extras_unavailable"
    message = _("This plan cannot be customized with extra seats or credits.")


class NothingToChange(BillingError):
    code = "nothing_to_change"
    message = _("Nothing to change: choose extra seats or extra credits.")


class CancelReasonRequired(BillingError):
    code = "cancel_reason_required"
    message = _("Choose one of the cancellation reasons.")


class CancelCommentRequired(BillingError):
    code = "cancel_comment_required"
    message = _("Tell us more in a few words when the reason is “Other”.")


class AlreadyCanceled(BillingError):
    code = "already_canceled"
    message = _("This subscription is already cancelled.")


class NotCanceled(BillingError):
    code = "not_canceled"
    message = _("This subscription is not cancelled.")


class ReactivationTooLate(BillingError):
    code = "reactivation_too_late"
    message = _("The subscription has already ended. Subscribe again to a plan.")


class NotDue(BillingError):
    code = "not_due"
    message = _("This subscription is not due for this operation yet.")


class RenewalPending(BillingError):
    code = "renewal_pending"
    message = _("The subscription is being renewed. Try again in a few minutes.")


class MixedCustomization(BillingError):
    code = "mixed_customization"
    message = _("Buy extra credits and remove seats in two separate steps.")


class InvoiceNotFound(BillingError):
    code = "invoice_not_found"
    message = _("This invoice does not exist.")


class InvoiceAlreadySettled(BillingError):
    code = "invoice_already_paid"
    message = _("This invoice is already paid.")


class InvoiceNotPayableNow(BillingError):
    code = "invoice_not_payable"
    message = _("This invoice has been cancelled: there is nothing to pay.")


class PaymentInProgress(BillingError):
    code = "payment_in_progress"
    message = _("A payment of this invoice is under way. Check again in a minute.")


class PaymentAwaitingAuthentication(BillingError):
    code = "payment_awaiting_authentication"
    message = _(
        "A payment is waiting for your bank's confirmation. Complete it from the invoice, "
        "or wait until it lapses, before making another change."
    )


class AddOnsUnavailable(BillingError):
    code = "addons_unavailable"
    message = _("Add-ons come with a paid plan: choose a plan first.")


class AddOnQuantityInvalid(BillingError):
    code = "addon_quantity_invalid"
    message = _("Choose a whole number of add-ons, between 0 and 100, of an add-on we sell.")
