"""An attack is mostly refusals: a replayed form and a full cap are refused before the
captcha is checked, from one read; the write transaction's checks stay the authority."""

from __future__ import annotations

import pytest

from tests.factories import call_body, post_call, statements_sent

pytestmark = pytest.mark.databases("sqlite", "postgresql")

NOT_A_SOLUTION = "bm90IGEgc29sdXRpb24="


def test_a_replayed_form_is_refused_as_spent_before_its_captcha_is_looked_at(app, client, widget):
    body = call_body(app, client, widget)
    first = post_call(client, body)

    replay = post_call(client, body | {"captcha": NOT_A_SOLUTION})

    assert first.status_code == 202
    assert replay.status_code == 403 and replay.get_json()["error"] == "nonce_used"


def test_a_form_replayed_to_the_process_that_took_it_is_refused_without_reading_its_standing(
        app, client, widget):
    body = call_body(app, client, widget)
    first = post_call(client, body)
    with statements_sent(app) as statements:
        replays = [post_call(client, body) for _ in range(3)]

    assert first.status_code == 202
    assert [(r.status_code, r.get_json()["error"]) for r in replays] == [(403, "nonce_used")] * 3
    # Only the settings version is read, to know the kept widget current; not the
    # standing, which would ask for the nonce (the tests write the refusal counts at
    # once; a server adds them up in memory).
    reads = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(reads) == 3 and all("settings_version" in s for s in reads), reads
    assert not any("used_tokens" in s for s in reads), reads


def test_a_form_spent_through_another_process_is_refused_by_the_read(make_app, widget):
    first_app, second_app = make_app(), make_app()
    body = call_body(first_app, first_app.test_client(), widget)
    admitted = post_call(first_app.test_client(), body)

    replayed = post_call(second_app.test_client(), body)
    again = post_call(second_app.test_client(), body)

    assert admitted.status_code == 202
    assert replayed.get_json()["error"] == again.get_json()["error"] == "nonce_used"


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
