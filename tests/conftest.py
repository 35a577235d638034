from collections.abc import Callable

import pytest
from django.core.cache import cache

from config.i18n import compile_messages
from config.reference_data import load_reference_data
from tests.factories import MembershipFactory, UserFactory, WorkspaceFactory
from workspaces.models import Membership, Role, Workspace


def pytest_configure(config: pytest.Config) -> None:
    # French is the default UI language: tests read the compiled catalogs.
    compile_messages()


def pytest_unconfigure(config: pytest.Config) -> None:
    # The run stops the servers it started (the shared ones stop with their last user).
    from config import embedded

    embedded.stop()


DB_FIXTURES = {"db", "transactional_db", "live_server"}


def _restores_serialized_data(request: pytest.FixtureRequest) -> bool:
    """Whether pytest-django will reload the post-migration snapshot for this test."""
    from pytest_django.django_compat import is_django_unittest
    from pytest_django.fixtures import validate_django_db

    if is_django_unittest(request):
        return False
    marker = request.node.get_closest_marker("django_db")
    transaction, reset_sequences, _, serialized, _ = (
        validate_django_db(marker) if marker else (False, False, None, False, None)
    )
    transactional = (
        transaction
        or reset_sequences
        or bool({"transactional_db", "live_server"} & set(request.fixturenames))
    )
    return transactional and (serialized or "django_db_serialized_rollback" in request.fixturenames)


@pytest.hookimpl(tryfirst=True)
def pytest_fixture_setup(fixturedef, request):
    """A ``serialized_rollback`` test starts from an empty database, in any order.

    Django reloads the snapshot taken after migrations with plain INSERTs, assuming the
    previous test left the tables empty. That only holds after another serialized test:
    any other transactional test ends with a flush whose post_migrate signal recreates
    content types and permissions under new ids, and reloading then fails on
    ``(admin, logentry) already exists``. So empty the tables (without post_migrate)
    just before pytest-django sets the test up; the snapshot then restores every row.
    """
    if fixturedef.argname != "_django_db_helper" or not _restores_serialized_data(request):
        return None
    from django.core.management import call_command
    from django.db import connections

    with request.getfixturevalue("django_db_blocker").unblock():
        for alias in connections:
            if hasattr(connections[alias], "_test_serialized_contents"):
                call_command(
                    "flush", verbosity=0, interactive=False, database=alias, inhibit_post_migrate=True
                )
    return None


@pytest.fixture(autouse=True)
def _reference_data(request):
    """The catalogs that data migrations load (plans, prices, add-ons, AI actions).

    A transactional test ends by emptying every table, migrations' data included; the
    product cannot run without its catalog, so put it back for every database test.
    """
    if not (request.node.get_closest_marker("django_db") or DB_FIXTURES & set(request.fixturenames)):
        return
    request.getfixturevalue("_django_db_helper")
    load_reference_data()


@pytest.fixture(autouse=True)
def _default_language_and_time_zone():
    """Each test starts in the default language and time zone. A request served earlier in
    the same thread leaves its own activated (the user's language and time zone, set by
    the middleware): a later test must not read messages in English or days elsewhere."""
    from django.conf import settings
    from django.utils import timezone, translation

    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()
    yield
    translation.activate(settings.LANGUAGE_CODE)
    timezone.deactivate()


@pytest.fixture(autouse=True)
def _empty_cache():
    """Rate limits and cached values never leak from one test into another."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def workspace(db) -> Workspace:
    ws = WorkspaceFactory(name="Acme Test")
    MembershipFactory(workspace=ws, role=Role.OWNER)
    return ws


@pytest.fixture
def other_workspace(db) -> Workspace:
    """A second tenant with data, so a query that forgets the tenant shows up."""
    ws = WorkspaceFactory(name="Other Corp")
    MembershipFactory(workspace=ws, role=Role.OWNER)
    MembershipFactory(workspace=ws, role=Role.MEMBER)
    return ws


@pytest.fixture
def owner(workspace) -> Membership:
    return Membership.objects.get(workspace=workspace, role=Role.OWNER)


@pytest.fixture
def member_with_role(workspace) -> Callable[[str], Membership]:
    def make(role: str) -> Membership:
        if role == Role.OWNER:
            return Membership.objects.get(workspace=workspace, role=Role.OWNER)
        return MembershipFactory(workspace=workspace, role=role)

    return make


@pytest.fixture
def member(member_with_role) -> Membership:
    return member_with_role(Role.MEMBER)


@pytest.fixture
def admin(member_with_role) -> Membership:
    return member_with_role(Role.ADMIN)


@pytest.fixture
def stranger(db):
    return UserFactory()
