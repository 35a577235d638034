"""The subscription pages, served under "<uuid:workspace_id>/workspace/": each tab is its
own URL, so reload and back work."""

from django.urls import path

from billing.pages import (
    annual,
    billing_tab,
    cancel,
    customize,
    overview,
    pay_invoice,
    payment_method,
    plans,
    settings_tab,
    workspace_settings,
    workspaces,
)

tenant_urlpatterns = [
    # The workspace Settings page (its billing time zone applies from the next period).
    path("settings/", workspace_settings.workspace_settings, name="workspace_settings"),
    path(
        "settings/billing-time-zone/",
        workspace_settings.workspace_billing_time_zone,
        name="workspace_billing_time_zone",
    ),
    path(
        "settings/billing-details/",
        workspace_settings.workspace_billing_details,
        name="workspace_billing_details",
    ),
    path("subscription/", overview.subscription_overview, name="subscription_overview"),
    path("subscription/billing/", billing_tab.subscription_billing, name="subscription_billing"),
    path("subscription/settings/", settings_tab.subscription_settings, name="subscription_settings"),
    path("subscription/credits/", overview.subscription_credits, name="subscription_credits"),
    path(
        "subscription/credit-purchases/export.csv",
        billing_tab.credit_purchases_csv,
        name="subscription_credit_purchases_csv",
    ),
    path("subscription/plans/", plans.subscription_plans, name="subscription_plans"),
    path("subscription/plans/preview/", plans.subscription_plan_preview, name="subscription_plan_preview"),
    path("subscription/plans/confirm/", plans.subscription_plan_confirm, name="subscription_plan_confirm"),
    path("subscription/customize/", customize.subscription_customize, name="subscription_customize"),
    path(
        "subscription/customize/summary/",
        customize.subscription_customize_summary,
        name="subscription_customize_summary",
    ),
    path("subscription/annual/", annual.subscription_annual, name="subscription_annual"),
    path("subscription/cancel/", cancel.subscription_cancel, name="subscription_cancel"),
    path(
        "subscription/payment-method/",
        payment_method.payment_method_update,
        name="subscription_payment_method",
    ),
    path("subscription/reactivate/", cancel.subscription_reactivate, name="subscription_reactivate"),
    path(
        "subscription/invoices/<int:invoice_id>/pay/",
        pay_invoice.invoice_pay,
        name="subscription_invoice_pay",
    ),
]

# Outside the workspace pages.
urlpatterns = [
    path("workspaces/", workspaces.workspace_list, name="workspace_list"),
]
