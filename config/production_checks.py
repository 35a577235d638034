"""What a production start (``DEBUG`` off) refuses, checked while the settings load."""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def _is_loopback(host: str) -> bool:
    if host in ("localhost", "") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def stripe_production_refusal(
    *, secret_key: str, publishable_key: str, api_base: str, webhook_secrets: list[str]
) -> str:
    """Why this Stripe configuration cannot take real payments (``""`` when it can): a live
    key pair, Stripe's own address (or one that is not this machine), signed webhooks."""
    if not secret_key.startswith(("sk_live_", "rk_live_")):
        return "STRIPE_SECRET_KEY must be a live Stripe key (sk_live_… or rk_live_…) when DEBUG is off."
    if not publishable_key.startswith("pk_live_"):
        return "STRIPE_PUBLISHABLE_KEY must be a live Stripe key (pk_live_…) when DEBUG is off."
    if api_base:
        parts = urlsplit(api_base)
        if parts.scheme != "https" or _is_loopback(parts.hostname or ""):
            return "STRIPE_API_BASE must be Stripe's own HTTPS address (leave it unset) when DEBUG is off."
    if not webhook_secrets or not all(secret.startswith("whsec_") for secret in webhook_secrets):
        return "STRIPE_WEBHOOK_SECRETS must list the webhook signing secrets (whsec_…) when DEBUG is off."
    return ""


#: Django's own bar for a strong key (``security.W009``): this long, this many distinct characters.
SECRET_KEY_MIN_LENGTH = 50
SECRET_KEY_MIN_UNIQUE_CHARACTERS = 5


def secret_key_refusal(secret_key: str) -> str:
    """Why ``secret_key`` cannot sign production sessions and links (``""`` when it can):
    missing, Django's generated insecure key, or shorter or plainer than Django's W009 bar."""
    if not secret_key:
        return "SECRET_KEY must be set to a long random value when DEBUG is off."
    if secret_key.startswith("django-insecure-"):
        return "SECRET_KEY is Django's development key (django-insecure-…); set a random one."
    if len(secret_key) < SECRET_KEY_MIN_LENGTH or len(set(secret_key)) < SECRET_KEY_MIN_UNIQUE_CHARACTERS:
        return (
            f"SECRET_KEY is too weak: use at least {SECRET_KEY_MIN_LENGTH} random characters "
            f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(64))')."
        )
    return ""
