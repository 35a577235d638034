from tests.subscriptions.conftest import _media_root, billed_workspace, other_billed

__all__ = ["_media_root", "billed_workspace", "other_billed"]
