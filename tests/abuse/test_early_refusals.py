"""An attack is mostly refusals: a replayed form and a full cap are refused before the
captcha is checked, from one read; the write transaction's checks stay the authority."""

from __future__ import annotations

import pytest

from tests.factories import call_body, post_call

pytestmark = pytest.mark.databases("sqlite", "postgresql")

NOT_A_SOLUTION = "bm90IGEgc29sdXRpb24="


def test_a_replayed_form_is_refused_as_spent_before_its_captcha_is_looked_at(app, client, widget):
    body = call_body(app, client, widget)
    first = post_call(client, body)

    replay = post_call(client, body | {"captcha": NOT_A_SOLUTION})

    assert first.status_code == 202
    assert replay.status_code == 403 and replay.get_json()["error"] == "nonce_used"


def test_a_request_against_a_full_cap_is_refused_before_its_captcha_is_looked_at(
        app, client, widget):
    app.config.update(CAP_PER_WIDGET=1)
    first = post_call(client, call_body(app, client, widget))

    over = post_call(client, call_body(app, client, widget, phone="+12025550142",
                                       captcha=NOT_A_SOLUTION))
    with_solution = post_call(client, call_body(app, client, widget, phone="+12025550143"))

    assert first.status_code == 202
    assert over.status_code == with_solution.status_code == 429
    assert over.get_json()["error"] == with_solution.get_json()["error"] == "cap_widget"


def test_with_room_under_the_caps_a_bad_captcha_is_still_refused(app, client, widget):
    refused = post_call(client, call_body(app, client, widget, captcha=NOT_A_SOLUTION))

    assert refused.status_code in (400, 403)
    assert refused.get_json()["error"].startswith("captcha")
