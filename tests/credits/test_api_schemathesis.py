"""The metering API against its own OpenAPI schema, over HTTP on the live server:
Schemathesis generates requests from the schema and runs every check it has (server
errors, status codes, content types, response schemas and headers, positive and negative
data, missing headers and auth, unsupported methods), with zero failures allowed.

Valid-looking requests may still be refused by the product's rules: an unknown member or
action (422) or too few credits (402) are documented answers, so the positive-data check
accepts them besides its defaults."""

from __future__ import annotations

import pytest
import schemathesis
from django.utils import timezone
from schemathesis.config import SchemathesisConfig

from credits import apikeys, services
from credits.api import api

MAX_EXAMPLES = 15


@pytest.fixture
def api_schema(live_server, workspace, settings):
    settings.API_RATE_LIMIT = "100000/min"
    services.allowance_ensure_current(workspace=workspace, now=timezone.now())
    _key, plain = apikeys.api_key_create(workspace=workspace, actor=None, name="Schemathesis")
    config = SchemathesisConfig.from_dict(
        {
            "base-url": live_server.url,
            "headers": {"Authorization": f"Bearer {plain}"},
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
def test_the_api_matches_its_schema(case):
    case.call_and_validate()
