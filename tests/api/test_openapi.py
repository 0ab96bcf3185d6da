"""The API documents itself: an OpenAPI document with every route, and interactive docs."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from html import escape
from typing import Any

from tests.api.conftest import Api

ROUTES = {
    "/api/v1/health": {"get"},
    "/api/v1/me": {"get"},
    "/api/v1/me/services": {"get"},
    "/api/v1/users": {"get", "post"},
    "/api/v1/teams": {"get", "post"},
    "/api/v1/teams/{name}": {"get", "delete"},
    "/api/v1/teams/{name}/members/{user}": {"put", "delete"},
    "/api/v1/keys": {"get", "post"},
    "/api/v1/keys/{ref}/revoke": {"post"},
    "/api/v1/services": {"get", "post"},
    "/api/v1/services/{name}": {"get", "patch"},
    "/api/v1/services/{name}/versions": {"post"},
    "/api/v1/services/{name}/publish": {"post"},
    "/api/v1/services/{name}/deprecate": {"post"},
    "/api/v1/services/{name}/export": {"get"},
    "/api/v1/services/{name}/runnability": {"get"},
    "/api/v1/services/{name}/reviews": {"get", "post"},
    "/api/v1/catalog/import": {"post"},
    "/api/v1/catalog/publish": {"post"},
    "/api/v1/categories": {"get"},
    "/api/v1/tags": {"get"},
    "/api/v1/featured": {"get"},
    "/api/v1/events": {"get"},
    "/api/v1/alerts/targets": {"get", "post"},
    "/api/v1/alerts/targets/{name}": {"delete"},
    "/api/v1/alerts/targets/{name}/test": {"post"},
    "/api/v1/alerts/deliveries": {"get"},
    "/api/v1/alerts": {"get"},
    "/api/v1/alerts/{alert_id}/ack": {"post"},
    "/api/v1/alerts/silences": {"get", "post"},
    "/api/v1/alerts/silences/{silence_id}": {"delete"},
    "/api/v1/alerts/rules": {"get", "post"},
    "/api/v1/alerts/rules/{name}": {"delete"},
    "/api/v1/alerts/rules/{name}/enabled": {"put"},
    "/api/v1/alerts/rules/export": {"get"},
    "/api/v1/audit": {"get"},
    "/api/v1/audit/export": {"get"},
    "/api/v1/billing/usage": {"get"},
    "/api/v1/billing/revenue": {"get"},
    "/api/v1/billing/metering": {"get"},
    "/api/v1/billing/prices/{name}": {"get", "post"},
    "/api/v1/billing/quotas": {"get", "post"},
    "/api/v1/billing/quotas/{quota_id}": {"delete"},
    "/api/v1/billing/invoices": {"get"},
    "/api/v1/billing/invoices/{name}": {"get"},
    "/api/v1/billing/invoices/{name}/export": {"get"},
    "/api/v1/billing/close": {"post"},
    "/api/v1/secrets": {"get"},
    "/api/v1/secrets/{name}": {"put", "delete"},
    "/api/v1/packages/{registry}/{name}/{version}/{filename}": {"put"},
    "/api/v1/logs": {"get"},
    "/api/v1/logs/export": {"get"},
    "/api/v1/logs/follow": {"get"},
    "/api/v1/deployments": {"get", "post"},
    "/api/v1/deployments/{name}": {"get", "delete"},
    "/api/v1/deployments/{name}/scale": {"post"},
    "/api/v1/deployments/{name}/update": {"post"},
    "/api/v1/deployments/{name}/configure": {"post"},
    "/api/v1/deployments/{name}/rollback": {"post"},
    "/api/v1/deployments/{name}/stop": {"post"},
    "/api/v1/deployments/{name}/start": {"post"},
    "/api/v1/deployments/{name}/autoscale": {"put"},
    "/api/v1/deployments/{name}/history": {"get"},
    "/api/v1/deployments/{name}/logs": {"get"},
    "/api/v1/deployments/{name}/shares": {"post", "delete"},
    "/api/v1/deployments/{name}/metrics": {"get"},
    "/api/v1/deployments/{name}/metrics/history": {"get"},
    "/api/v1/deployments/{name}/drift": {"get"},
    "/api/v1/deployments/{name}/drift/approve": {"post"},
    "/api/v1/deployments/{name}/drift/policy": {"put"},
    "/api/v1/deployments/{name}/sessions": {"get"},
    "/api/v1/deployments/{name}/sessions/{session_id}": {"delete"},
    "/api/v1/deployments/{name}/sessions/{session_id}/drain": {"post"},
    "/api/v1/deployments/{name}/inspect": {"get"},
    "/api/v1/deployments/{name}/definitions": {"get"},
    "/api/v1/deployments/{name}/tools/call": {"post"},
}


async def test_the_openapi_document_lists_every_route(api: Api) -> None:
    response = await api.http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["info"]["title"] == "mcp-console"
    paths = {path: set(item) for path, item in document["paths"].items()}
    assert paths == ROUTES
    assert document["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    for path, item in document["paths"].items():
        for method, operation in item.items():
            secured = bool(operation.get("security"))
            assert secured == (path != "/api/v1/health"), (method, path)


async def test_the_document_is_built_without_warnings(api: Api) -> None:
    """Request bodies are documented (and validated) without a warning in the daemon's log."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await api.http.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert [str(warning.message) for warning in caught] == []


async def test_request_and_response_bodies_are_the_schemas(api: Api) -> None:
    document = (await api.http.get("/api/v1/openapi.json")).json()
    schemas = document["components"]["schemas"]
    for name in ("ServiceCreate", "ServiceDetail", "SearchPage", "ReviewCreate", "UserCreated"):
        assert name in schemas
    review = document["paths"]["/api/v1/services/{name}/reviews"]["post"]
    body = review["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/ReviewCreate")
    for path, method, body, answer in (
        ("/api/v1/deployments/{name}/shares", "post", "ShareCreate", "DeploymentDetail"),
        ("/api/v1/keys", "post", "KeyCreate", "KeyCreated"),
        ("/api/v1/teams", "post", "TeamCreate", "TeamView"),
        ("/api/v1/teams/{name}/members/{user}", "put", "MemberBody", "TeamView"),
    ):
        operation = document["paths"][path][method]
        sent = operation["requestBody"]["content"]["application/json"]["schema"]
        assert sent["$ref"].endswith(f"/{body}"), (path, sent)
        answered = next(r for status, r in operation["responses"].items() if status < "300")
        assert answered["content"]["application/json"]["schema"]["$ref"].endswith(f"/{answer}")
    listed = document["paths"]["/api/v1/keys"]["get"]["responses"]["200"]["content"]
    assert listed["application/json"]["schema"]["items"]["$ref"].endswith("/KeyView")
    unshare = document["paths"]["/api/v1/deployments/{name}/shares"]["delete"]
    assert {p["name"] for p in unshare["parameters"]} == {"name", "user", "team"}
    events = document["paths"]["/api/v1/events"]["get"]
    assert "text/event-stream" in events["responses"]["200"]["content"]


def _operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield method, path, operation


async def test_every_route_documents_its_bodies_and_its_error_statuses(api: Api) -> None:
    document = (await api.http.get("/api/v1/openapi.json")).json()
    error_ref = "#/components/schemas/ErrorBody"
    assert set(document["components"]["schemas"]["ErrorBody"]["properties"]) == {"error"}
    assert "HTTPValidationError" not in document["components"]["schemas"]
    for method, path, operation in _operations(document):
        where = f"{method.upper()} {path}"
        if "requestBody" in operation:
            for media_type, body in operation["requestBody"]["content"].items():
                assert body.get("schema"), (where, media_type)
        responses = operation["responses"]
        answers = {status: r for status, r in responses.items() if status < "300"}
        assert len(answers) == 1, where
        ((status, answer),) = answers.items()
        if status != "204":
            assert answer["content"], where
            for media_type, body in answer["content"].items():
                schema = body.get("schema") or body.get("itemSchema")
                assert schema, (where, media_type)
        errors = {status for status in responses if status >= "400"}
        expected = {"500", "503"}
        if path != "/api/v1/health":
            expected |= {"401", "403"}
        if operation.get("parameters") or operation.get("requestBody"):
            expected |= {"404", "422"}
        if method != "get":
            expected.add("409")
        assert errors == expected, where
        for status in errors:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema == {"$ref": error_ref}, (where, status)
            assert responses[status]["description"], (where, status)


async def test_a_documented_error_is_the_body_the_api_answers(api: Api) -> None:
    document = (await api.http.get("/api/v1/openapi.json")).json()
    detail = document["components"]["schemas"]["ErrorDetail"]
    response = await api.http.get("/api/v1/deployments/nope", headers=api.admin)
    assert response.status_code == 404
    assert "404" in document["paths"]["/api/v1/deployments/{name}"]["get"]["responses"]
    error = response.json()["error"]
    assert set(error) <= set(detail["properties"])
    assert set(detail["required"]) <= set(error)


async def test_the_docs_page_is_served_whole_without_a_key(api: Api) -> None:
    response = await api.http.get("/api/docs")
    assert response.status_code == 200
    assert "text/html" in response.headers["content-type"]
    page = response.text
    # Self-contained: it must read the same on a machine with no network.
    assert "<script" not in page
    assert "<link" not in page
    assert re.search(r'(src|href)="(https?:)?//', page) is None
    assert "/api/v1/openapi.json" in page
    document = (await api.http.get("/api/v1/openapi.json")).json()
    for method, path, _operation in _operations(document):
        assert f'<span class="m {method}">{method}</span>{escape(path)}' in page, (method, path)
    for name in document["components"]["schemas"]:
        assert f'id="schema-{name}"' in page
    # FastAPI's own pages (which load their scripts from a CDN) are not served.
    assert (await api.http.get("/docs")).status_code == 404
