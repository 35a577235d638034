"""Admin registrations, one module per app (Django imports ``console.admin`` at start)."""

from console.admin import audit, credits, invoices, subscriptions, teams, workspaces

__all__ = ["audit", "credits", "invoices", "subscriptions", "teams", "workspaces"]
