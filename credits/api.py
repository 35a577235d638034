"""The metering API (django-ninja) at ``/api/v1/``; OpenAPI 3 schema at ``/api/v1/openapi.json``.

``Authorization: Bearer <workspace API key>``; writes that charge credits carry an
``Idempotency-Key`` header (required). Errors are ``{"error": {"code", "message", …}}``:
401 for a missing, revoked or expired key, 402 ``insufficient_credits`` (with balance,
required and the upgrade options), 403 ``role_not_allowed`` or ``scope_missing``, 404 for
another workspace's key or an unknown reservation, 409 for a key reused with a different
body, 422 for invalid input, 429 ``rate_limited`` with ``Retry-After``. The interactive
docs (``/api/v1/docs``) and the schema are served to signed-in staff only
(docs/security.md#metering-api).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, NinjaAPI, Schema, Status
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError
from ninja.params.functions import Header
from ninja.security import HttpBearer
from pydantic import field_validator

from credits import apikeys, errors, offers, selectors, services
from credits.models import ApiKey, ApiScope
from credits.ratelimit import ApiKeyRateThrottle
from workspaces.errors import DomainError
from workspaces.models import Membership, Workspace

STATUS_OF: dict[type[DomainError], int] = {
    errors.InsufficientCredits: 402,
    errors.RoleNotAllowed: 403,
    errors.ScopeMissing: 403,
    errors.ReservationNotFound: 404,
    errors.IdempotencyKeyReused: 409,
    errors.ReservationNotHeld: 409,
}


class ApiKeyAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> ApiKey | None:
        return apikeys.api_key_authenticate(key=token)


api = NinjaAPI(
    title="SeatCredit metering API",
    version="1.0.0",
    description="Consume AI credits for the actions of a workspace's members.",
    urls_namespace="credits_api",
    auth=ApiKeyAuth(),
    throttle=[ApiKeyRateThrottle()],
    docs_decorator=staff_member_required,
)


# --- schemas ---------------------------------------------------------------------------------


class ErrorBody(Schema):
    code: str
    message: str


class ErrorOut(Schema):
    error: ErrorBody


class UpgradeOptionOut(Schema):
    kind: str
    label: str
    url: str


class InsufficientBody(ErrorBody):
    balance: int
    required: int
    upgrade_options: list[UpgradeOptionOut]


class InsufficientOut(Schema):
    error: InsufficientBody


class ActionIn(Schema):
    action: str = Field(..., min_length=1, max_length=64, description="Action code, e.g. summarize.")
    quantity: int = Field(1, ge=1, le=errors.MAX_QUANTITY, description="Units; multiplies the cost.")
    user: str = Field(..., min_length=3, max_length=254, description="The acting member's email address.")

    @field_validator("action", "user")
    @classmethod
    def _no_nul(cls, value: str) -> str:
        # PostgreSQL text cannot hold NUL: refuse it as invalid input, not a server error.
        if "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value


class BalanceOut(Schema):
    balance: int
    buckets: dict[str, int]
    held: int
    allowance: int
    allowance_remaining: int
    remaining_percent: str
    period_start: date | None
    period_end: date | None


class ConsumeOut(Schema):
    consumed: int
    balance: int
    entry_id: int


class ReservationOut(Schema):
    id: uuid.UUID
    amount: int
    expires_at: datetime
    status: str
    balance: int


class SettleOut(Schema):
    id: uuid.UUID
    status: str
    amount: int
    balance: int
    entry_id: int | None


_ERRORS: dict[int | str, Any] = {
    401: ErrorOut,
    403: ErrorOut,
    404: ErrorOut,
    409: ErrorOut,
    422: ErrorOut,
    429: ErrorOut,
}
_CHARGE_ERRORS: dict[int | str, Any] = {**_ERRORS, 402: InsufficientOut}


# --- error format ------------------------------------------------------------------------------


def _error(request: HttpRequest, status: int, code: str, message: Any, **extra: Any) -> HttpResponse:
    return api.create_response(
        request, {"error": {"code": code, "message": str(message), **extra}}, status=status
    )


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    status = next((s for cls, s in STATUS_OF.items() if isinstance(exc, cls)), 422)
    extra: dict[str, Any] = {}
    if isinstance(exc, errors.InsufficientCredits):
        workspace_id = request.auth.workspace_id  # type: ignore[attr-defined]
        base = settings.SITE_URL.rstrip("/")
        extra = {
            "balance": exc.balance,
            "required": exc.required,
            "upgrade_options": [
                {"kind": o.kind, "label": str(o.label), "url": base + o.path}
                for o in offers.upgrade_options(workspace_id)
            ],
        }
    return _error(request, status, exc.code, exc.message, **extra)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    fields = [
        {"field": ".".join(str(p) for p in e.get("loc", ())[1:]) or "body", "message": e.get("msg", "")}
        for e in exc.errors
    ]
    if any(e.get("loc", ())[-1:] == ("Idempotency-Key",) for e in exc.errors):
        # Missing, blank or too long: the code the services give for the same refusal.
        return _error(
            request, 422, errors.IdempotencyKeyRequired.code, errors.IDEMPOTENCY_KEY_REQUIRED, fields=fields
        )
    return _error(request, 422, "invalid_input", _("The request is not valid."), fields=fields)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # Ninja answers an unparsable body with 400; the contract says 422 for invalid input.
    if exc.status_code == 400:
        return _error(request, 422, "invalid_input", _("The request body is not valid JSON."))
    if isinstance(exc, Throttled):  # ninja adds Retry-After
        return _error(
            request, 429, "rate_limited", _("Too many requests for this API key: wait before retrying.")
        )
    return _error(request, exc.status_code, "http_error", str(exc))


@api.exception_handler(AuthenticationError)
def _unauthorized(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = _error(
        request,
        401,
        "unauthorized",
        _("A valid API key is required (Authorization: Bearer <key>): it may be revoked or expired."),
    )
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, 404, "not_found", _("Not found."))


# --- endpoints ---------------------------------------------------------------------------------


def _workspace(request: HttpRequest, workspace_id: uuid.UUID, scope: ApiScope) -> Workspace:
    """The key's workspace; another workspace's key is told the URL does not exist, a key
    without ``scope`` is refused (403)."""
    key: ApiKey = request.auth  # type: ignore[attr-defined]
    if key.workspace_id != workspace_id:
        raise Http404("No such workspace for this API key.")  # the message shown is the generic one
    if not key.allows(scope):
        raise errors.ScopeMissing(scope.value)
    return key.workspace


def _member(workspace: Workspace, email: str) -> Membership:
    membership = selectors.acting_member(workspace, email)
    if membership is None:
        raise errors.UnknownMember()
    return membership


#: Required on the writes that charge credits: a retry under the same key is answered with
#: the first result instead of charging twice.
def _idempotency_key_header() -> Any:
    return Header(
        ...,
        alias="Idempotency-Key",
        min_length=1,
        max_length=services.MAX_IDEMPOTENCY_KEY_LENGTH,
        pattern=r"\S",
        description="A unique key per logical request (e.g. a UUID); a retry reuses it.",
    )


def _replayed(response: HttpResponse, replayed: bool) -> None:
    if replayed:
        response["Idempotent-Replayed"] = "true"


@api.get("/workspaces/{workspace_id}/credits/balance", response={200: BalanceOut, **_ERRORS})
def balance(request: HttpRequest, workspace_id: uuid.UUID) -> dict[str, Any]:
    """The workspace's spendable credits, per bucket, and its allowance for the period."""
    summary = selectors.credit_summary(_workspace(request, workspace_id, ApiScope.READ))
    return {
        "balance": summary.balance,
        "buckets": summary.buckets,
        "held": summary.held,
        "allowance": summary.allowance,
        "allowance_remaining": summary.allowance_remaining,
        "remaining_percent": summary.remaining_percent,
        "period_start": summary.period_start,
        "period_end": summary.period_end,
    }


@api.post("/workspaces/{workspace_id}/credits/consume", response={200: ConsumeOut, **_CHARGE_ERRORS})
def consume(
    request: HttpRequest,
    response: HttpResponse,
    workspace_id: uuid.UUID,
    payload: ActionIn,
    idempotency_key: str = _idempotency_key_header(),
) -> dict[str, Any]:
    """Charge an AI action now. A replay with the same Idempotency-Key returns the first result."""
    workspace = _workspace(request, workspace_id, ApiScope.CONSUME)
    result = services.credits_consume(
        workspace=workspace,
        actor=_member(workspace, payload.user),
        action=payload.action,
        quantity=payload.quantity,
        idempotency_key=idempotency_key,
    )
    _replayed(response, result.replayed)
    return {"consumed": result.consumed, "balance": result.balance, "entry_id": result.entry_id}


@api.post("/workspaces/{workspace_id}/credits/reservations", response={201: ReservationOut, **_CHARGE_ERRORS})
def reserve(
    request: HttpRequest,
    response: HttpResponse,
    workspace_id: uuid.UUID,
    payload: ActionIn,
    idempotency_key: str = _idempotency_key_header(),
) -> Status[dict[str, Any]]:
    """Hold credits before an AI call; capture on success, release on failure."""
    workspace = _workspace(request, workspace_id, ApiScope.CONSUME)
    result = services.credits_reserve(
        workspace=workspace,
        actor=_member(workspace, payload.user),
        action=payload.action,
        quantity=payload.quantity,
        idempotency_key=idempotency_key,
    )
    _replayed(response, result.replayed)
    r = result.reservation
    return Status(
        201,
        {
            "id": r.pk,
            "amount": r.amount,
            "expires_at": r.expires_at,
            "status": r.status,
            "balance": result.balance,
        },
    )


def _settle_out(result: services.SettleResult) -> dict[str, Any]:
    return {
        "id": result.reservation_id,
        "status": result.status,
        "amount": result.amount,
        "balance": result.balance,
        "entry_id": result.entry_id,
    }


@api.post(
    "/workspaces/{workspace_id}/credits/reservations/{reservation_id}/capture",
    response={200: SettleOut, **_ERRORS},
)
def capture(request: HttpRequest, workspace_id: uuid.UUID, reservation_id: uuid.UUID) -> dict[str, Any]:
    """The AI call succeeded: the held credits are spent (idempotent)."""
    workspace = _workspace(request, workspace_id, ApiScope.CONSUME)
    return _settle_out(services.reservation_capture(workspace=workspace, reservation_id=reservation_id))


@api.post(
    "/workspaces/{workspace_id}/credits/reservations/{reservation_id}/release",
    response={200: SettleOut, **_ERRORS},
)
def release(request: HttpRequest, workspace_id: uuid.UUID, reservation_id: uuid.UUID) -> dict[str, Any]:
    """The AI call failed: the held credits come back, the action costs nothing (idempotent)."""
    workspace = _workspace(request, workspace_id, ApiScope.CONSUME)
    return _settle_out(
        services.reservation_release(workspace=workspace, reservation_id=reservation_id, now=timezone.now())
    )


def api_not_found(request: HttpRequest, path: str = "") -> HttpResponse:
    """Any /api/ address that names no endpoint: a 404 in the API's error format."""
    return JsonResponse(
        {"error": {"code": "not_found", "message": str(_("This API endpoint does not exist."))}}, status=404
    )
