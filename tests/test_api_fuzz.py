"""Property-based fuzzing of the whole /api/v1 from the app's own OpenAPI document.

schemathesis generates valid and invalid requests for every operation (as admin, so each
request reaches the graph) and checks: no 5xx, every status code is one the operation
declares, and every response body matches the declared schema. Bounded in examples so it
finishes in well under two minutes.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance, response_schema_conformance, status_code_conformance,
)

from tests.test_api import Api, create, estate

FUZZED_PATHS = r"^/(api/v1/|healthz|version)"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance]


@pytest.fixture
def fuzz_api(embedded_graph, embedded_settings) -> Api:
    api = Api(embedded_graph, embedded_settings)
    estate(api)
    create(api.admin, "機房 1", "Location", type="room")
    return api


def operations(api: Api):
    schema = schemathesis.openapi.from_asgi("/openapi.json", api.app).include(path_regex=FUZZED_PATHS)
    found = [result.ok() for result in schema.get_all_operations()]
    assert len(found) >= 10, found
    return found


def free_text_only(api: Api) -> set[str]:
    doc = api.admin.get("/openapi.json").json()
    return {f"{method.upper()} {path}" for path, ops in doc["paths"].items()
            for method, op in ops.items()
            if "requestBody" not in op
            and all(p["in"] == "path" and p["schema"] == {"type": "string", "title": p["schema"].get("title")}
                    for p in op.get("parameters", []))}


# The operations are driven one by one with Hypothesis directly: schemathesis's pytest plugin
# (``from_fixture``) does not run under this project's pytest version.
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_openapi_and_never_fails_with_5xx(fuzz_api, mode):
    headers = {"Authorization": f"Bearer {fuzz_api.tokens['admin']}"}
    nothing_to_negate = []
    for operation in operations(fuzz_api):
        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(max_examples=15, deadline=None, derandomize=True, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
        def fuzz(case):
            case.call_and_validate(headers=headers, checks=CHECKS)
        try:
            fuzz()
        except Unsatisfiable:
            nothing_to_negate.append(operation.label)
    # Only operations whose sole input is nothing or free-text path segments have no invalid input.
    assert set(nothing_to_negate) <= free_text_only(fuzz_api), nothing_to_negate
    assert fuzz_api.admin.get("/healthz").status_code == 200


def test_openapi_documents_every_ci_operation_with_errors(embedded_settings):
    from cmdb.api.app import create_app
    from fastapi.testclient import TestClient

    doc = TestClient(create_app(embedded_settings)).get("/openapi.json").json()
    operations = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert {("GET", "/api/v1/cis"), ("POST", "/api/v1/cis"), ("GET", "/api/v1/cis/{key}"),
            ("PATCH", "/api/v1/cis/{key}"), ("DELETE", "/api/v1/cis/{key}"),
            ("GET", "/api/v1/cis/{key}/relationships"), ("GET", "/api/v1/cis/{key}/history"),
            ("POST", "/api/v1/relationships"), ("DELETE", "/api/v1/relationships"),
            ("GET", "/api/v1/search")} <= operations
    patch = doc["paths"]["/api/v1/cis/{key}"]["patch"]
    assert {"200", "401", "403", "404", "412", "422"} <= set(patch["responses"])
    assert patch["responses"]["412"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorBody")
    assert any(p["name"] == "If-Match" and p["in"] == "header" for p in patch["parameters"])
