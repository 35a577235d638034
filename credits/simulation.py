"""A simulated AI call, run through the ledger the way the host product would.

The AI actions page lets a member try the metering end to end: credits are held
(reserve), the "AI" runs, then the hold is captured on success or released on
failure (docs/rules/credits.md#reserve-capture-release: when the AI cannot produce a
result, no credit is used).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from credits import services
from credits.models import ActionType, ReservationStatus
from workspaces.models import Membership, Workspace

#: The sample actions offered on the page, in display order.
SAMPLE_ACTIONS = (
    "summarize",
    "translate",
    "cluster_notes",
    "generate_diagram",
    "prototype_screen",
    "alt_text",
)


@dataclass(frozen=True)
class ActionOutcome:
    action: ActionType
    quantity: int
    succeeded: bool
    output: str
    charged: int
    balance: int
    reservation_id: uuid.UUID


def _sample_output(code: str, quantity: int) -> str:
    if code == "summarize":
        return _("Summary: the team agreed to ship the pricing page on Friday; two questions remain open.")
    if code == "translate":
        return _("Translated 120 words from French into English.")
    if code == "cluster_notes":
        return _("Grouped 24 sticky notes into 4 clusters: pricing, onboarding, performance and support.")
    if code == "generate_diagram":
        return _("Created a flowchart with 7 steps from the selected notes.")
    if code == "prototype_screen":
        return ngettext(
            "Generated %(count)d prototype screen.", "Generated %(count)d prototype screens.", quantity
        ) % {"count": quantity}
    if code == "alt_text":
        return _("Alt text: “Bar chart of monthly active users, rising from 1,200 to 3,400.”")
    return _("Done.")


def ai_action_perform(
    *,
    workspace: Workspace,
    actor: Membership,
    action: str,
    quantity: int,
    idempotency_key: str,
    simulate_failure: bool = False,
    now: datetime | None = None,
) -> ActionOutcome:
    """Reserve, run the (simulated) AI call, then capture or release.

    Deliberately not one transaction: the AI call happens between the hold and its
    settlement, as in production, and a crash in between leaves a hold that the
    sweep releases. A replay with the same key reports the first outcome.
    """
    now = now or timezone.now()
    reserved = services.credits_reserve(
        workspace=workspace,
        actor=actor,
        action=action,
        quantity=quantity,
        idempotency_key=idempotency_key,
        now=now,
    )
    reservation = reserved.reservation
    action_type = ActionType.objects.get(pk=reservation.action_id)
    if reserved.replayed and reservation.status != ReservationStatus.HELD:
        succeeded = reservation.status == ReservationStatus.CAPTURED
    else:
        succeeded = not simulate_failure
    if succeeded:
        settled = services.reservation_capture(workspace=workspace, reservation_id=reservation.pk, now=now)
        output = _sample_output(action_type.code, quantity)
    else:
        settled = services.reservation_release(workspace=workspace, reservation_id=reservation.pk, now=now)
        output = _("The AI could not produce a result. No credit was used.")
    return ActionOutcome(
        action=action_type,
        quantity=quantity,
        succeeded=succeeded,
        output=output,
        charged=reservation.amount if succeeded else 0,
        balance=settled.balance,
        reservation_id=reservation.pk,
    )
