from tests.factories import call_body, create_account, create_widget, post_call
from widget_server.extensions import db


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


def test_the_status_follows_a_redial_booked_after_the_business_missed_the_call(app, client):
    with app.app_context():
        widget = create_widget(account=create_account(name="acme"), redial_attempts=1)
        db.session.expunge(widget)
    response = post_call(client, call_body(app, client, widget, phone="+12025550006"))
    accepted = response.get_json()
    body = client.get(accepted["status_url"],
                      headers={"X-Call-Token": accepted["call_token"]}).get_json()
    assert (body["call_id"], body["attempt"], body["status"], body["reason"]) == (
        accepted["call_id"], 2, "queued", "redial")
    assert body["message"] == ("The business did not answer; we will try again in a few "
                               "minutes.")
