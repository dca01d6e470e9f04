from tests.factories import call_body, post_call


def test_valid_request_is_accepted_and_the_simulator_completes_the_call(app, client, widget):
    response = post_call(client, call_body(app, client, widget))
    assert response.status_code == 202, response.get_json()
    accepted = response.get_json()
    status = client.get(accepted["status_url"], headers={"X-Call-Token": accepted["call_token"]})
    assert status.status_code == 200
    body = status.get_json()
    assert body["status"] == "completed"
    assert [e["status"] for e in body["events"]] == [
        "queued", "dialing", "dialing", "ringing", "connected", "completed"]
