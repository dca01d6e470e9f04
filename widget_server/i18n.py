"""The visitor's language: the frame, its refusals and the call's progress, via Flask-Babel.

A widget names the language its visitors read (``Widget.language``), or
``auto`` for each visitor's browser language; the embed endpoints record it
with ``use_widget_language`` once they know the widget. Before that (a garbled
token) the visitor's browser chooses among the languages we have. Mails to site
owners are in the widget's language too (mail/notifications.py, with
``force_locale``). The management API and provider callbacks stay in English.
The admin has a catalogue domain of its own, ``admin`` (``admin_gettext``; in
templates under ``templates/admin/`` ``_()`` reads it), in the language its
user chose or else their browser's, among ``ADMIN_LANGUAGES``. Saving a
language without a catalogue is refused (services/widgets.py); one stored
before falls back to English, and the frame says so in its ``lang`` attribute.
Arabic and Hebrew set ``dir=rtl`` (``text_direction``).

Catalogues live in ``widget_server/translations`` (see docs/translating.md).
Messages are English sentences marked where they are written: ``Refusal``'s
second argument, ``N_("...")`` for sentences kept in tables, ``_("...")`` in
the frame's template; they are translated when sent.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from babel import Locale
from babel.lists import format_list
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, Domain, get_domain, get_locale, gettext
from flask_babel.speaklater import LazyString
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

TRANSLATIONS = Path(__file__).resolve().parent / "translations"
DEFAULT_LANGUAGE = "en"
# The languages the frame can be read in: English and every catalogue shipped.
LANGUAGES = (DEFAULT_LANGUAGE, *sorted(
    path.name.replace("_", "-") for path in TRANSLATIONS.iterdir()
    if (path / "LC_MESSAGES" / "messages.mo").is_file()))

# A widget set to ``auto`` speaks its visitor's browser language, among LANGUAGES.
AUTO_LANGUAGE = "auto"
# Read right to left: the frame says ``dir=rtl`` and mirrors its layout.
RIGHT_TO_LEFT = frozenset({"ar", "he"})

# The admin's catalogues: ``admin.po`` beside the visitor's ``messages.po``, kept
# apart so the 12 visitor languages need not carry the admin's hundreds of
# sentences, nor the admin's four the visitor's.
ADMIN_DOMAIN = "admin"
ADMIN_LANGUAGES = (DEFAULT_LANGUAGE, *sorted(
    path.name.replace("_", "-") for path in TRANSLATIONS.iterdir()
    if (path / "LC_MESSAGES" / f"{ADMIN_DOMAIN}.mo").is_file()))
admin_domain = Domain(translation_directories=[str(TRANSLATIONS)], domain=ADMIN_DOMAIN)

babel = Babel()


def N_(message: str) -> str:
    """Mark a sentence kept in a table for translation; ``translate`` translates it."""
    return message


def supported(language: str | None) -> str | None:
    """The catalogue for ``language`` ("pt-BR" falls back to "pt"), or None."""
    if not language:
        return None
    if language in LANGUAGES:
        return language
    base = language.split("-")[0]
    return base if base in LANGUAGES else None


def use_widget_language(language: str | None) -> None:
    """Speak the widget's language for the rest of this request; for ``auto``, the
    visitor's browser language among ours."""
    g.widget_language = language
    if language == AUTO_LANGUAGE:
        language = request.accept_languages.best_match(LANGUAGES) if has_request_context() \
            else None
    g.visitor_language = supported(language) or DEFAULT_LANGUAGE


def forget_widget_language() -> None:
    """Back to the visitor's browser language: the widget noted earlier in this request
    turned out to be gone."""
    g.pop("widget_language", None)
    g.pop("visitor_language", None)


def in_admin() -> bool:
    """Whether this request is the admin's; unmatched /admin/ addresses have no blueprint."""
    return has_request_context() and (request.blueprint == "admin"
                                      or request.path.startswith("/admin/"))


def admin_language() -> str:
    """The admin's language for this request: the signed-in user's choice (``User.language``),
    else their browser's among ``ADMIN_LANGUAGES``, else English."""
    chosen = getattr(current_user, "language", None)
    if chosen in ADMIN_LANGUAGES:
        return chosen
    # In the browser's order, a regional tag reading as its language: "fr-CA,en;q=0.5"
    # is French (werkzeug's best_match would take the exact "en" first).
    for tag, _quality in request.accept_languages:
        language = tag.lower().split("-")[0]
        if language in ADMIN_LANGUAGES:
            return language
    return DEFAULT_LANGUAGE


def _select_locale() -> str:
    language = g.get("visitor_language")
    if language is None and request and request.blueprint == "embed":
        language = request.accept_languages.best_match(LANGUAGES)
    if language is None and in_admin():
        language = admin_language()
    return (language or DEFAULT_LANGUAGE).replace("-", "_")


def admin_gettext(message: str, **params: object) -> str:
    """``message`` from the admin's catalogue, in the admin's language (imported as ``_``)."""
    return admin_domain.gettext(message, **params)


def admin_ngettext(singular: str, plural: str, num: int, **params: object) -> str:
    return admin_domain.ngettext(singular, plural, num, **params)


def lazy_admin_gettext(message: str, **params: object) -> LazyString:
    """``admin_gettext`` when shown, for labels made at import time (imported as ``_l``)."""
    return LazyString(admin_gettext, message, **params)


def translate(message: str, **params: object) -> str:
    """``message`` in the request's language, with ``%(name)s`` placeholders filled."""
    return gettext(message, **params)


class CountryNames:
    """Countries as a ``%(name)s`` value: named in the language the sentence is sent in
    (Babel's names, "Austria, Germany and Switzerland"), not as codes."""

    def __init__(self, codes) -> None:
        self.codes = list(codes)

    def __str__(self) -> str:
        locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
        names = [locale.territories.get(code, code) for code in self.codes]
        return format_list(sorted(names, key=lambda name: unicodedata.normalize("NFKD", name)),
                           locale=locale)


def language_tag() -> str:
    """The language being spoken, as an HTML ``lang`` value."""
    return str(get_locale() or Locale.parse(DEFAULT_LANGUAGE)).replace("_", "-")


def text_direction() -> str:
    """``rtl`` for a language read right to left, else ``ltr``: the HTML ``dir`` value."""
    return "rtl" if language_tag().split("-")[0] in RIGHT_TO_LEFT else "ltr"


def _template_domain(context: Context) -> Domain:
    """The admin's catalogue for templates under ``admin/`` (their macros and mails too),
    the visitor's for the rest."""
    return admin_domain if (context.name or "").startswith("admin/") else get_domain()


@pass_context
def _template_gettext(context: Context, message: str) -> str:
    return _template_domain(context).get_translations().ugettext(message)


@pass_context
def _template_ngettext(context: Context, singular: str, plural: str, num: int) -> str:
    return _template_domain(context).get_translations().ungettext(singular, plural, num)


@pass_context
def _template_pgettext(context: Context, message_context: str, message: str) -> str:
    return _template_domain(context).get_translations().upgettext(message_context, message)


@pass_context
def _template_npgettext(context: Context, message_context: str, singular: str, plural: str,
                        num: int) -> str:
    return _template_domain(context).get_translations().unpgettext(
        message_context, singular, plural, num)


def init_app(app: Flask) -> None:
    babel.init_app(app, locale_selector=_select_locale,
                   default_translation_directories=str(TRANSLATIONS))
    # Flask-Babel's ``_`` reads one domain; ours picks it by the template's name.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_template_gettext, ngettext=_template_ngettext, newstyle=True,
        pgettext=_template_pgettext, npgettext=_template_npgettext)
    app.jinja_env.globals["language_tag"] = language_tag
    app.jinja_env.globals["text_direction"] = text_direction
    # For texts that are not templates (a site owner's own): Jinja's ``_`` fills
    # ``%`` placeholders, ``translate`` without parameters leaves the text as it is.
    app.jinja_env.globals["translate"] = translate
