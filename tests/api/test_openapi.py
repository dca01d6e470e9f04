"""The OpenAPI document describes exactly the routes the app serves under /api/v1."""

from __future__ import annotations

import re

from widget_server.api.problems import PREFIX

_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")
_METHODS = {"GET", "POST", "PATCH", "PUT", "DELETE"}


def test_every_api_route_is_in_the_document_and_nothing_else(app, client):
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX + "/"):
            path = _VARIABLE.sub(r"{\1}", rule.rule.removeprefix(PREFIX))
            served |= {(path, method.lower()) for method in rule.methods & _METHODS}
    document = client.get(PREFIX + "/openapi.json").get_json()
    described = {(path, method) for path, item in document["paths"].items()
                 for method in item if method != "parameters"}
    assert described == served


def test_the_document_is_openapi_3_1_with_bearer_keys(client):
    document = client.get(PREFIX + "/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    refs = set(re.findall(r'"#/components/schemas/(\w+)"', str(document).replace("'", '"')))
    assert refs <= set(document["components"]["schemas"])


def test_each_provider_kinds_options_are_described_with_their_types(client):
    document = client.get(PREFIX + "/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    by_kind = schemas["ProviderAccountCreate"]["properties"]["options"]["x-options-by-kind"]
    c2c = schemas[by_kind["c2c-php"].rpartition("/")[2]]
    assert c2c["properties"]["max_duration"]["type"] == "integer"
    assert "holdfile" in c2c["required"]
    assert schemas[by_kind["simulator"].rpartition("/")[2]]["properties"] == {}
