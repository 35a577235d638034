"""The subscription pages, served under "<uuid:workspace_id>/workspace/" (SPEC.md
"Subscription page"): each tab is its own URL, so reload and back work."""

from django.urls import path

from billing.pages import payment_method, views, workspaces

tenant_urlpatterns = [
    path("subscription/", views.subscription_overview, name="subscription_overview"),
    path("subscription/billing/", views.subscription_billing, name="subscription_billing"),
    path("subscription/settings/", views.subscription_settings, name="subscription_settings"),
    path("subscription/credits/", views.subscription_credits, name="subscription_credits"),
    path(
        "subscription/credit-purchases/export.csv",
        views.credit_purchases_csv,
        name="subscription_credit_purchases_csv",
    ),
    path("subscription/plans/", views.subscription_plans, name="subscription_plans"),
    path("subscription/plans/preview/", views.subscription_plan_preview, name="subscription_plan_preview"),
    path("subscription/plans/confirm/", views.subscription_plan_confirm, name="subscription_plan_confirm"),
    path("subscription/customize/", views.subscription_customize, name="subscription_customize"),
    path(
        "subscription/customize/summary/",
        views.subscription_customize_summary,
        name="subscription_customize_summary",
    ),
    path("subscription/annual/", views.subscription_annual, name="subscription_annual"),
    path("subscription/cancel/", views.subscription_cancel, name="subscription_cancel"),
    path("subscription/payment-method/", payment_method.payment_method_update, name="subscription_payment_method"),
    path("subscription/reactivate/", views.subscription_reactivate, name="subscription_reactivate"),
]

# Outside the workspace pages.
urlpatterns = [
    path("workspaces/", workspaces.workspace_list, name="workspace_list"),
]
