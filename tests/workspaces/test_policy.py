from django.utils import translation

from workspaces import permissions
from workspaces.models import Role
from workspaces.permissions import Capability

# docs/rules/roles.md#capability-matrix, row by row.
EXPECTED = {
    Capability.VIEW_PLAN: {Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER},
    Capability.VIEW_BILLING: {Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN},
    Capability.MANAGE_BILLING: {Role.OWNER, Role.ADMIN},
    Capability.MANAGE_MEMBERS: {Role.OWNER, Role.ADMIN},
    Capability.MANAGE_API_KEYS: {Role.OWNER, Role.ADMIN},
    Capability.USE_AI: {Role.OWNER, Role.ADMIN, Role.BILLING_ADMIN, Role.MEMBER},
}


def test_policy_matches_the_spec_table():
    for capability, roles in EXPECTED.items():
        granted = {role for role in Role if permissions.allows(role, capability)}
        assert granted == roles, capability


def test_guests_and_visitors_hold_no_licence_and_never_use_ai():
    for role in (Role.GUEST, Role.VISITOR):
        assert not permissions.holds_licence(role)
        assert Capability.USE_AI not in permissions.capabilities_of(role)
    assert permissions.holds_licence(Role.MEMBER)


def test_each_capability_refuses_with_its_own_message_in_french_and_english():
    for language in ("fr", "en"):
        with translation.override(language):
            messages = {
                capability: str(permissions.REFUSAL_MESSAGES[capability]) for capability in Capability
            }
        assert len(set(messages.values())) == len(Capability), language
    with translation.override("en"):
        assert "API keys" in str(permissions.REFUSAL_MESSAGES[Capability.MANAGE_API_KEYS])
        assert "subscription" not in str(permissions.REFUSAL_MESSAGES[Capability.MANAGE_API_KEYS])
    with translation.override("fr"):
        assert "clés d’API" in str(permissions.REFUSAL_MESSAGES[Capability.MANAGE_API_KEYS])
