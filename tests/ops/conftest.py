from tests.outbox.conftest import outbox_mail  # noqa: F401 - the fixture, for these tests too
