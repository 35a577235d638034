"""The metering API against its own OpenAPI schema, over HTTP on the live server:
Schemathesis generates requests from the schema and runs every check it has (server
errors, status codes, content types, response schemas and headers, positive and negative
data, missing headers and auth, unsupported methods), with zero failures allowed.

Valid requests name a real member and action; the schema cannot say which, so a valid
shape may still be refused by the product's rules (an unknown member or action, 422) or
run out of credits (402): both documented answers the positive-data check accepts besides
its defaults."""

from __future__ import annotations

import pytest
import schemathesis
from django.utils import timezone
from schemathesis.config import SchemathesisConfig

from credits import apikeys, services
from credits.api import api

MAX_EXAMPLES = 10


@pytest.fixture
def api_schema(live_server, workspace, settings):
    settings.API_RATE_LIMIT = "100000/min"
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    _key, plain = apikeys.api_key_create(workspace=workspace, actor=None, name="Schemathesis")
    config = SchemathesisConfig.from_dict(
        {
            "base-url": live_server.url,
            # The key as the schema's bearer scheme, so the auth checks send it or leave it out.
            "auth": {"openapi": {"ApiKeyAuth": {"bearer": plain}}},
            "generation": {"max-examples": MAX_EXAMPLES},
            "parameters": {"workspace_id": str(workspace.pk)},
            "checks": {
                "positive_data_acceptance": {
                    "expected-statuses": ["2xx", "401", "402", "403", "404", "409", "422", "429"]
                }
            },
        }
    )
    return schemathesis.openapi.from_dict(api.get_openapi_schema(), config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.mark.django_db(transaction=True)
@schema.parametrize()
def test_the_api_matches_its_schema(case, member):
    if not case.meta.generation.mode.is_negative and isinstance(case.body, dict) and "user" in case.body:
        # A real member and action, so that valid requests are charged (200, 201) or run
        # out of credits (402), not only refused as unknown.
        case.body.update(user=member.user.email, action="summarize")
    case.call_and_validate()
