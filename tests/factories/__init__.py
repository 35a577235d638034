"""Factories for the rows tests need, one module per app.

Rows the product guards with invariants (the credit ledger, invoices, the account
balance, a subscription and what its purchase writes) come from the services that keep
those invariants: those factories call them. Plain rows (users, memberships, the
catalog, drafts) are written directly.
"""

from tests.factories.credits import (
    ApiKeyFactory,
    ConsumptionFactory,
    CreditBalanceFactory,
    FreeCreditsFactory,
    PurchasedCreditsFactory,
    ReservationFactory,
)
from tests.factories.invoices import (
    AccountBalanceCreditFactory,
    DraftInvoiceFactory,
    DraftInvoiceLineFactory,
    InvoiceFactory,
    line_text,
    plan_line,
)
from tests.factories.subscriptions import (
    VISA_DECLINED,
    VISA_OK,
    PaymentMethodFactory,
    PlanFactory,
    PriceFactory,
    SubscriptionAddOnFactory,
    SubscriptionFactory,
    SubscriptionRowFactory,
    price_id,
    save_card,
    subscribe,
)
from tests.factories.workspaces import (
    PASSWORD,
    EmailAddressFactory,
    InvitationFactory,
    MembershipFactory,
    UserFactory,
    WorkspaceFactory,
    owner_of,
)

__all__ = [
    "PASSWORD",
    "VISA_DECLINED",
    "VISA_OK",
    "AccountBalanceCreditFactory",
    "ApiKeyFactory",
    "ConsumptionFactory",
    "CreditBalanceFactory",
    "DraftInvoiceFactory",
    "DraftInvoiceLineFactory",
    "EmailAddressFactory",
    "FreeCreditsFactory",
    "InvitationFactory",
    "InvoiceFactory",
    "MembershipFactory",
    "PaymentMethodFactory",
    "PlanFactory",
    "PriceFactory",
    "PurchasedCreditsFactory",
    "ReservationFactory",
    "SubscriptionAddOnFactory",
    "SubscriptionFactory",
    "SubscriptionRowFactory",
    "UserFactory",
    "WorkspaceFactory",
    "line_text",
    "owner_of",
    "plan_line",
    "price_id",
    "save_card",
    "subscribe",
]
