"""Captcha verifiers: ALTCHA (self-hosted proof of work, the default), hCaptcha, Turnstile.

The captcha runs in the frame on this server's origin, so one site key serves
every customer domain. A solution is accepted once: ALTCHA's by the challenge
inside its signed payload, a vendor token by its digest, each kept until it
would have expired anyway.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import altcha
import requests
from flask import current_app, request

from widget_server.errors import Refusal
from widget_server.security.keys import derived_secrets
from widget_server.security.single_use import SingleUse

_MISSING = Refusal("captcha_missing", "Please complete the captcha.")
_WRONG = Refusal("captcha_failed", "The captcha was not solved; please try again.", status=403)
_REPLAYED = Refusal("captcha_replayed", "This captcha was already used; please solve it again.",
                    status=403)
_UNAVAILABLE = Refusal("captcha_unavailable",
                       "The captcha service did not answer; please try again shortly.",
                       status=503)
# Vendor error codes that mean our secret or site key is wrong, not the visitor's answer.
_CONFIGURATION_ERRORS = {"missing-input-secret", "invalid-input-secret", "invalid-sitekey",
                         "sitekey-secret-mismatch"}


class CaptchaVerifier:
    kind = ""

    def frame_settings(self) -> dict:
        """What the frame needs to show the captcha (never the secret)."""
        raise NotImplementedError

    def verify(self, solution: object, *, remote_ip: str) -> SingleUse:
        """Check ``solution``, or raise a ``Refusal``.

        Returns the id to consume in the transaction that records the call, so
        a call refused later (a cap) does not spend the solution.
        """
        raise NotImplementedError


class AltchaVerifier(CaptchaVerifier):
    """ALTCHA v1 proof of work: find n with SHA-256(salt + n) == challenge.

    Needs no third party and works offline. The HMAC keys are derived from the
    secret keys, so they rotate with them: the newest signs, and the older ones
    still open a challenge handed out just before a rotation.
    """

    kind = "altcha"

    def _hmac_keys(self) -> list[str]:
        return derived_secrets(current_app.config, "altcha")

    def frame_settings(self) -> dict:
        return {"kind": self.kind}

    def challenge(self) -> dict:
        config = current_app.config
        expires = datetime.now(UTC) + timedelta(seconds=config["ALTCHA_MAX_AGE"])
        # The options object: altcha's keyword overload declares no defaults.
        challenge = altcha.create_challenge_v1(altcha.ChallengeOptionsV1(
            hmac_key=self._hmac_keys()[0], max_number=config["ALTCHA_MAX_NUMBER"], expires=expires
        ))
        return {
            "algorithm": challenge.algorithm,
            "challenge": challenge.challenge,
            "maxnumber": challenge.max_number,
            "salt": challenge.salt,
            "signature": challenge.signature,
        }

    def verify(self, solution: object, *, remote_ip: str) -> SingleUse:
        if not isinstance(solution, str) or not solution:
            raise _MISSING
        try:
            payload = json.loads(base64.b64decode(solution, validate=True))
            ok = any(altcha.verify_solution_v1(payload, key, check_expires=True)[0]
                     for key in self._hmac_keys())
        except (ValueError, TypeError, AttributeError):
            ok = False
        if not ok:
            raise _WRONG
        return SingleUse("altcha", str(payload["challenge"])[:128],
                         current_app.config["ALTCHA_MAX_AGE"], _REPLAYED)


class SiteverifyVerifier(CaptchaVerifier):
    """A vendor captcha checked server-side through its siteverify endpoint."""

    default_verify_url = ""
    script_url = ""
    token_lifetime = 300

    def frame_settings(self) -> dict:
        return {"kind": self.kind, "site_key": current_app.config["CAPTCHA_SITE_KEY"],
                "script_url": self.script_url}

    def _form(self, token: str, remote_ip: str) -> dict:
        return {"secret": current_app.config["CAPTCHA_SECRET"], "response": token,
                "remoteip": remote_ip}

    def verify(self, solution: object, *, remote_ip: str) -> SingleUse:
        if not isinstance(solution, str) or not solution or len(solution) > 4096:
            raise _MISSING
        config = current_app.config
        url = config["CAPTCHA_VERIFY_URL"] or self.default_verify_url
        try:
            reply = requests.post(url, data=self._form(solution, remote_ip),
                                  timeout=config["CAPTCHA_TIMEOUT"])
            reply.raise_for_status()
            outcome = reply.json()
        except (requests.RequestException, ValueError):
            current_app.logger.warning("captcha siteverify unavailable at %s", url)
            raise _UNAVAILABLE from None
        if not isinstance(outcome, dict):
            current_app.logger.warning("captcha siteverify at %s answered no JSON object", url)
            raise _UNAVAILABLE
        errors = outcome.get("error-codes")
        errors = [code for code in errors if isinstance(code, str)] if isinstance(
            errors, list) else []
        if _CONFIGURATION_ERRORS.intersection(errors):
            # Our secret or site key is wrong: the visitor cannot fix that.
            current_app.logger.error("captcha siteverify refused our configuration: %s",
                                     ", ".join(map(str, errors)))
            raise _UNAVAILABLE
        if outcome.get("success") is not True:
            raise _WRONG
        # A token solved on another site (a harvested one) names that site's host.
        expected_host = config["CAPTCHA_HOSTNAME"] or urlsplit(request.host_url).hostname
        if outcome.get("hostname") != expected_host:
            raise _WRONG
        digest = hashlib.sha256(solution.encode()).hexdigest()
        return SingleUse(self.kind, digest, self.token_lifetime, _REPLAYED)


class HCaptchaVerifier(SiteverifyVerifier):
    kind = "hcaptcha"
    default_verify_url = "https://api.hcaptcha.com/siteverify"
    script_url = "https://js.hcaptcha.com/1/api.js"
    token_lifetime = 120

    def _form(self, token: str, remote_ip: str) -> dict:
        return super()._form(token, remote_ip) | {"sitekey": current_app.config["CAPTCHA_SITE_KEY"]}


class TurnstileVerifier(SiteverifyVerifier):
    kind = "turnstile"
    default_verify_url = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
    script_url = "https://challenges.cloudflare.com/turnstile/v0/api.js"


VERIFIERS = {cls.kind: cls for cls in (AltchaVerifier, HCaptchaVerifier, TurnstileVerifier)}


def captcha_verifier() -> CaptchaVerifier:
    return VERIFIERS[current_app.config["CAPTCHA"]]()
