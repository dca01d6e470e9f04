"""hCaptcha and Turnstile in a real browser, from the vendor's box to the call.

The vendor's script and its token service are answered inside chromium by
Playwright (`page.route`): a stand-in script renders the box into the frame's
`.h-captcha` / `.cf-turnstile` element and, once ticked, puts the token in the
hidden field the real script fills (`h-captcha-response`, `cf-turnstile-response`),
as the vendors document. The token comes from the loopback siteverify fake, which
our server then asks, so the whole path runs: the frame's CSP lets the vendor's
origins in, frame.js reads the token, the server verifies it once and places the
call. Every other request outside loopback is aborted; nothing leaves the machine.
"""

from __future__ import annotations

import re

import pytest
from flask_migrate import upgrade
from playwright.sync_api import expect
from sqlalchemy import func, select

from tests.browser_support import serve, start_consumer
from tests.factories import create_account, create_widget
from tests.fakes.siteverify import running_siteverify
from widget_server import create_app
from widget_server.demo import host_page_app
from widget_server.extensions import db
from widget_server.models import AllowedDomain, CallRequest, Widget
from widget_server.services.widgets import embed_snippet

pytestmark = pytest.mark.browser

SITE_KEY = "10000000-ffff-ffff-ffff-000000000001"
# The vendor's script, where its token service answers, its element and the field it fills.
VENDORS = {
    "hcaptcha": ("https://js.hcaptcha.com/1/api.js", "https://api.hcaptcha.com/checkcaptcha",
                 "h-captcha", "h-captcha-response"),
    "turnstile": ("https://challenges.cloudflare.com/turnstile/v0/api.js",
                  "https://challenges.cloudflare.com/cdn-cgi/challenge-platform/token",
                  "cf-turnstile", "cf-turnstile-response"),
}

# What the vendor's api.js does for this test: render a box into each element of
# its class, fetch a token when it is ticked, expose reset().
STAND_IN_SCRIPT = """(() => {
  const [vendor, tokenUrl, cls, field] = %s, boxes = [];
  for (const el of document.querySelectorAll('.' + cls)) {
    const box = document.createElement('button'), answer = document.createElement('textarea');
    box.type = 'button'; box.textContent = 'I am human';
    answer.name = field; answer.hidden = true;
    box.addEventListener('click', async () => {
      const r = await fetch(tokenUrl + '?sitekey=' + encodeURIComponent(el.dataset.sitekey));
      answer.value = await r.text();
      box.textContent = 'Solved';
    });
    el.append(box, answer);
    boxes.push([box, answer]);
  }
  window[vendor] = { reset() {
    for (const [box, answer] of boxes) { answer.value = ''; box.textContent = 'I am human'; }
  } };
})();"""


@pytest.fixture(scope="module", params=sorted(VENDORS))
def site(request, tmp_path_factory):
    """The app on one vendor's captcha and the loopback siteverify, and a host page."""
    vendor = request.param
    with running_siteverify() as siteverify:
        app = create_app({
            "INSTANCE_PATH": str(tmp_path_factory.mktemp(vendor) / "instance"),
            "DEVELOPMENT": True,
            "SIMULATOR_SPEED": 0.5,
            "CAPTCHA": vendor,
            "CAPTCHA_SITE_KEY": SITE_KEY,
            "CAPTCHA_SECRET": siteverify.secret,
            "CAPTCHA_VERIFY_URL": siteverify.url,
        })
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory)
            widget_id = create_widget(account=create_account(name=f"{vendor}-shop"),
                                      domains=[]).id
        app_server = serve(app)
        app_url = f"http://127.0.0.1:{app_server.effective_port}"
        with app.app_context():
            embed = embed_snippet(db.session.get(Widget, widget_id), app_url)
            host_server = serve(host_page_app(embed))
            db.session.add(AllowedDomain(widget_id=widget_id,
                                         pattern=f"localhost:{host_server.effective_port}"))
            db.session.commit()
        consumer = start_consumer(app)
        yield {"vendor": vendor, "app": app, "siteverify": siteverify,
               "host_url": f"http://localhost:{host_server.effective_port}"}
        consumer.stop(graceful=True)
        for server in (app_server, host_server):
            server.close()
        with app.app_context():
            db.engine.dispose()


def _calls(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(CallRequest))


def test_the_vendor_box_in_the_frame_gates_the_call_and_its_token_is_verified_once(page, site):
    script_url, token_url, cls, field = VENDORS[site["vendor"]]
    siteverify = site["siteverify"]
    # The first token is one harvested on another site; the next ones are this site's.
    issued_for = ["elsewhere.example"]

    def token(route):
        assert f"sitekey={SITE_KEY}" in route.request.url
        host = issued_for.pop() if issued_for else "127.0.0.1"
        route.fulfill(body=siteverify.issue(host), content_type="text/plain",
                      headers={"Access-Control-Allow-Origin": "*"})

    # Routes run newest first: anything not on loopback and not the vendor's is dropped.
    page.route(re.compile(r"^https?://(?!127\.0\.0\.1|localhost)"), lambda route: route.abort())
    page.route(script_url, lambda route: route.fulfill(
        body=STAND_IN_SCRIPT % repr([site["vendor"], token_url, cls, field]),
        content_type="text/javascript"))
    page.route(token_url + "?*", token)

    page.goto(site["host_url"])
    page.get_by_role("button", name="Call me back").click()
    frame = page.frame_locator("iframe[title='Call me back']")
    box = frame.locator(f".{cls}").get_by_role("button")
    expect(box).to_have_text("I am human")
    frame.get_by_label("Your phone number").fill("+1 202 555 0147")
    frame.get_by_label("I agree to be called back").check()
    send = frame.locator("#send")
    captcha_error = frame.locator("#captcha-err")

    # Unsolved: the frame says so and sends nothing.
    send.click()
    expect(captcha_error).to_have_text("Please complete the captcha.")
    assert siteverify.requests == [] and _calls(site["app"]) == 0

    # A token solved for another host is refused, and the vendor box is reset.
    box.click()
    expect(box).to_have_text("Solved")
    send.click()
    expect(captcha_error).to_have_text("The captcha was not solved; please try again.")
    expect(box).to_have_text("I am human")
    assert len(siteverify.requests) == 1 and _calls(site["app"]) == 0

    # Solved here: verified with our secret and the visitor's address, then the call runs.
    box.click()
    expect(box).to_have_text("Solved")
    send.click()
    status = frame.locator("#progress").get_by_role("status")
    expect(status).to_contain_text("Connected")
    expect(status).to_contain_text("Completed")
    assert _calls(site["app"]) == 1
    sent = siteverify.requests[-1]
    assert sent["secret"] == siteverify.secret and sent["remoteip"] == "127.0.0.1"
    assert sent["response"].startswith("P1_")
    assert sent.get("sitekey") == (SITE_KEY if site["vendor"] == "hcaptcha" else None)
