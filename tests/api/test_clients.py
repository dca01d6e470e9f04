"""Clients: a reseller creates and reads its clients and sets their allowances within its own."""

from __future__ import annotations


def test_a_reseller_creates_reads_lists_and_updates_a_client(api, tenants):
    created = api("POST", "/clients", json={"name": "new-shop", "daily_call_cap": 5,
                                            "monthly_call_cap": 50})
    assert created.status_code == 201
    client = created.get_json()
    assert client | {"id": 0, "created_at": ""} == {
        "id": 0, "name": "new-shop", "kind": "client", "parent_id": tenants.ids["reseller"],
        "daily_call_cap": 5, "monthly_call_cap": 50, "created_at": "",
        "may_add_providers": True, "max_widgets": None, "suspended_at": None}
    assert api("GET", f"/clients/{client['id']}").get_json() == client
    names = [c["name"] for c in api("GET", "/clients").get_json()["items"]]
    assert names == ["client-a", "client-b", "new-shop"]
    updated = api("PATCH", f"/clients/{client['id']}", json={"daily_call_cap": 7,
                                                               "name": "new-shop-2"})
    assert updated.get_json()["daily_call_cap"] == 7
    assert updated.get_json()["name"] == "new-shop-2"


def test_an_allowance_above_the_parents_own_is_refused(api, tenants):
    response = api("PATCH", f"/clients/{tenants.ids['client-a']}",
                   json={"daily_call_cap": 101})
    assert response.status_code == 422
    assert "daily_call_cap" in response.get_json()["errors"]
    refused = api("POST", "/clients", json={"name": "greedy", "monthly_call_cap": 5000,
                                            "daily_call_cap": 1})
    assert refused.status_code == 422
    assert "monthly_call_cap" in refused.get_json()["errors"]


def test_a_client_key_creates_no_accounts_and_a_taken_name_conflicts(api):
    assert api("POST", "/clients", key="client-a", json={"name": "sub"}).status_code == 403
    taken = api("POST", "/clients", json={"name": "CLIENT-A", "daily_call_cap": 1,
                                          "monthly_call_cap": 1})
    assert taken.status_code == 409
    assert taken.get_json()["detail"] == "reseller has an account with this name already."


def test_names_are_unique_among_siblings_so_a_conflict_tells_nothing_of_other_tenants(
        api, tenants):
    """Another reseller's client name is free here: a 409 would have revealed it."""
    created = api("POST", "/clients", json={"name": "Other-Client", "daily_call_cap": 1,
                                            "monthly_call_cap": 1})
    assert created.status_code == 201
    renamed = api("PATCH", f"/clients/{tenants.ids['client-b']}", json={"name": "client-A"})
    assert renamed.status_code == 409
    # A client renaming itself would probe its siblings, other tenants of its reseller.
    own = api("PATCH", f"/clients/{tenants.ids['client-a']}", key="client-a",
              json={"name": "client-b"})
    assert own.status_code == 403
    assert api("GET", f"/clients/{tenants.ids['client-a']}", key="client-a").get_json()[
        "name"] == "client-a"


def test_only_the_operator_creates_resellers(api):
    body = {"name": "sub-reseller", "kind": "reseller", "daily_call_cap": 1,
            "monthly_call_cap": 1}
    assert api("POST", "/clients", json=body).status_code == 422
    assert api("POST", "/clients", key="operator", json=body).status_code == 201


def test_a_reseller_cannot_change_its_own_allowance(api, tenants):
    response = api("PATCH", f"/clients/{tenants.ids['reseller']}",
                   json={"monthly_call_cap": 10**6})
    assert response.status_code == 403


def test_a_body_that_is_not_an_object_is_a_422_saying_so_not_bad_json(api):
    for body in ("null", "[]", '"name"'):
        response = api("POST", "/clients", data=body, content_type="application/json")
        assert response.status_code == 422, body
        assert response.get_json()["errors"] == {"body": "Send a JSON object."}
    broken = api("POST", "/clients", data="{", content_type="application/json")
    assert broken.status_code == 400


def test_a_daily_allowance_above_the_monthly_one_is_refused(api, tenants):
    created = api("POST", "/clients", key="operator", json={
        "name": "tiny", "daily_call_cap": 100, "monthly_call_cap": 10})
    assert created.status_code == 422
    assert "cannot exceed the monthly one" in created.get_json()["errors"]["daily_call_cap"]
    patched = api("PATCH", f"/clients/{tenants.ids['client-a']}", json={
        "daily_call_cap": 20, "monthly_call_cap": 15})
    assert patched.status_code == 422
    assert "daily_call_cap" in patched.get_json()["errors"]


def test_unknown_query_parameters_are_refused_like_unknown_body_fields(api, tenants):
    listed = api("GET", "/clients?kinds=reseller")
    assert listed.status_code == 422
    assert listed.mimetype == "application/problem+json"
    assert listed.get_json()["errors"] == {"kinds": "This field is not known."}
    assert api("GET", "/clients?kind=client&page=1").status_code == 200
    one = api("GET", f"/clients/{tenants.ids['client-a']}?verbose=1")
    assert one.status_code == 422 and "verbose" in one.get_json()["errors"]
    changed = api("PATCH", f"/clients/{tenants.ids['client-a']}?dry_run=1",
                  json={"name": "renamed"})
    assert changed.status_code == 422 and "dry_run" in changed.get_json()["errors"]
    assert api("GET", f"/clients/{tenants.ids['client-a']}").get_json()["name"] == "client-a"
