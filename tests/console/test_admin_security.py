"""The admin's security (docs/rules/operators.md#admin-security): sign-in through the site's
login page with its attempt limits, a TOTP second factor for staff, and staff sessions
that end after inactivity."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, generate_totp_secret, hotp_value

from tests.factories import UserFactory
from tests.factories.workspaces import PASSWORD

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 5, 4, 9, 0, tzinfo=UTC)


@pytest.fixture
def staff(db):
    return UserFactory(email="ops@seatcredit.test", is_staff=True, is_superuser=True)


def _code(secret: str, moment: datetime) -> str:
    return format_hotp_value(hotp_value(secret, int(moment.timestamp()) // 30))


def _sign_in(client, password: str = PASSWORD):
    return client.post(
        "/accounts/login/?next=/admin/", {"login": "ops@seatcredit.test", "password": password}
    )


def test_the_admin_login_page_is_the_sites_and_ten_wrong_passwords_lock_the_account(client, staff):
    assert client.get("/admin/login/?next=/admin/")["Location"].startswith("/accounts/login/")

    answers = [_sign_in(client, "wrong-password").status_code for _ in range(10)]
    locked = _sign_in(client)

    assert answers == [200] * 10  # the form again, each time
    assert locked.status_code == 200
    assert "Trop de tentatives" in locked.content.decode()
    assert client.get("/admin/").status_code == 302  # still signed out


def test_staff_without_an_authenticator_are_sent_to_set_one_up(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = True

    assert _sign_in(client).status_code == 302
    admin = client.get("/admin/")

    assert admin.status_code == 302
    assert admin["Location"].startswith("/accounts/2fa/totp/activate/")


def test_staff_with_totp_reach_the_admin_only_with_their_code(client, staff, settings):
    settings.ADMIN_REQUIRE_MFA = True
    secret = generate_totp_secret()
    TOTP.activate(staff, secret)

    with time_machine.travel(T0, tick=False):
        signed = _sign_in(client)
        assert signed["Location"].startswith("/accounts/2fa/authenticate/")
        assert client.get("/admin/").status_code == 302  # the password alone opens nothing
        wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
        assert wrong.status_code == 200
        right = client.post("/accounts/2fa/authenticate/", {"code": _code(secret, T0)})
        assert right.status_code == 302
        assert client.get("/admin/").status_code == 200


def test_a_password_only_session_of_a_staff_user_with_totp_is_signed_out_of_the_admin(
    client, staff, settings
):
    settings.ADMIN_REQUIRE_MFA = True
    TOTP.activate(staff, generate_totp_secret())
    client.force_login(staff)  # a session that never gave the code

    answer = client.get("/admin/")

    assert answer["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_a_staff_session_ends_after_thirty_idle_minutes(client, staff, settings):
    settings.STAFF_SESSION_IDLE_SECONDS = 30 * 60
    client.force_login(staff)
    with time_machine.travel(T0, tick=False):
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=29), tick=False):
        assert client.get("/admin/").status_code == 200
    with time_machine.travel(T0 + timedelta(minutes=29 + 31), tick=False):
        idle = client.get("/admin/")

    assert idle["Location"].startswith("/accounts/login/")
    assert "_auth_user_id" not in client.session
