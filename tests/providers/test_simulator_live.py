"""The live harness itself, on the simulator: a real server, a real queue consumer."""


def test_simulated_call_completes_through_the_live_app_and_its_queue(live):
    token = live.provider_widget(kind="simulator", base_url="", credentials={})
    shown = live.place_call(token)
    assert shown["status"] == "completed"
    assert [e["status"] for e in shown["events"]][-3:] == ["ringing", "connected", "completed"]
