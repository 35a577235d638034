"""Admin registrations, one module per app (Django imports ``console.admin`` at start)."""

from console.admin import credits, invoices, subscriptions, teams, workspaces

__all__ = ["credits", "invoices", "subscriptions", "teams", "workspaces"]
