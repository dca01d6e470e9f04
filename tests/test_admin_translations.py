"""The admin's catalogues (gettext domain "admin") match the code: every marked admin
sentence extracted, translated into each admin language, compiled.

A sentence marked with ``_()`` in the admin's views, forms or templates (or a
fixed refusal sentence of the services, which the admin shows translated)
fails here until ``./scripts/update-admin-catalogues`` has extracted it and
someone has translated it: new sentences are expected to fail until then.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from widget_server.i18n import ADMIN_DOMAIN, ADMIN_LANGUAGES, LANGUAGES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[1]
# Every admin catalogue written, compiled or not: one without its .mo would go unoffered.
TRANSLATED = sorted(path.parent.parent.name
                    for path in TRANSLATIONS.glob(f"*/LC_MESSAGES/{ADMIN_DOMAIN}.po"))
# The admin languages issue 14 promises; losing one fails here.
PROMISED = {"en", "de", "fr", "es"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def key(text):
    """A message's id or string: a plural's forms as a tuple."""
    return text if isinstance(text, str) else tuple(text)


def ids(catalogue) -> set:
    return {key(message.id) for message in catalogue if message.id}


def read(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / f"{ADMIN_DOMAIN}.po", "rb") as po:
        return read_po(po, locale=language)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What the extraction of scripts/update-admin-catalogues finds in the code now."""
    out = tmp_path_factory.mktemp("pot") / "admin.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", "babel-admin.cfg", "-k", "_l", "-k", "ServiceError", "--no-location",
                    "--omit-header", "--sort-output", "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as pot:
        return ids(read_po(pot))


def placeholders(text: str) -> Counter:
    return Counter(PLACEHOLDER.findall(text))


def test_the_template_holds_every_sentence_the_admin_marks(extracted):
    with open(TRANSLATIONS / f"{ADMIN_DOMAIN}.pot", "rb") as pot:
        assert ids(read_po(pot)) == extracted, "run ./scripts/update-admin-catalogues"
    assert "Your settings" in extracted  # a template's
    assert "Daily allowance" in extracted  # a form label's
    assert "There is no such widget." in extracted  # a service's refusal


def test_every_promised_admin_language_is_offered():
    assert set(ADMIN_LANGUAGES) == PROMISED
    assert set(TRANSLATED) == PROMISED - {"en"}
    assert set(ADMIN_LANGUAGES) <= set(LANGUAGES)


def test_the_visitor_catalogue_holds_no_admin_sentence(extracted):
    """The admin's sentences stay out of the 12 visitor catalogues (babel.cfg ignores them)."""
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        visitor = ids(read_po(pot))
    assert "Your settings" not in visitor
    assert "Daily allowance" not in visitor


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_admin_sentence_is_translated_with_its_placeholders(extracted, language):
    catalogue = read(language)
    assert not catalogue.fuzzy, "the catalogue's header is marked fuzzy"
    written = ids(catalogue)
    assert not extracted - written, f"missing, run ./scripts/update-admin-catalogues: " \
                                    f"{sorted(map(str, extracted - written))[:5]}"
    assert not written - extracted, \
        f"no longer in the code: {sorted(map(str, written - extracted))[:5]}"
    for message in catalogue:
        if not message.id:
            continue
        sources = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        assert all(strings) and not message.fuzzy, f"untranslated or fuzzy: {message.id!r}"
        for string in strings:
            # A language may order the parts of a sentence its own way, never drop one;
            # a plural's singular may say "one" instead of its %(num)s.
            wanted = placeholders(sources[-1])
            assert placeholders(string) in (wanted, wanted - Counter({"num": 1})), message.id
            assert "%" not in PLACEHOLDER.sub("", string).replace("%%", ""), message.id
            assert string.count("%%") == sources[-1].count("%%"), message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_admin_catalogue_is_the_one_written(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with open(folder / f"{ADMIN_DOMAIN}.mo", "rb") as mo:
        compiled = {key(message.id): key(message.string)
                    for message in read_mo(io.BytesIO(mo.read())) if message.id}
    written = {key(message.id): key(message.string) for message in read(language) if message.id}
    assert compiled == written
