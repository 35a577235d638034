"""The Stripe gateway's tests share the subscription tests' fixtures (a workspace on Free
with its allowance, a second tenant on a paid plan, stored files in a per-test folder)."""

from tests.subscriptions.conftest import _media_root, billed_workspace, other_billed

__all__ = ["_media_root", "billed_workspace", "other_billed"]
