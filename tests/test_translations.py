"""The shipped catalogues match the code: every visitor sentence extracted, translated, compiled.

A sentence added or changed in the code without `pybabel extract` and
`update` (docs/translating.md) fails here, rather than reaching a German
visitor in English.
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

from widget_server.i18n import LANGUAGES, TRANSLATIONS

ROOT = Path(__file__).resolve().parents[1]
# Every catalogue written, compiled or not: one without its .mo would go unoffered.
TRANSLATED = sorted(path.parent.parent.name for path in TRANSLATIONS.glob("*/LC_MESSAGES/*.po"))
# The visitor languages issue 13 promises; losing one fails here.
PROMISED = {"en", "de", "es", "fr", "it", "pt", "nl", "pl", "ru", "uk", "tr", "ar", "he"}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def ids(catalogue) -> set[str]:
    return {message.id for message in catalogue if message.id}


def read(language: str):
    with open(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po", "rb") as po:
        return read_po(po)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    """What `pybabel extract` finds in the code now, as the README's command runs it."""
    out = tmp_path_factory.mktemp("pot") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract",
                    "-F", "babel.cfg", "-k", "N_", "-k", "Refusal:2", "--no-location",
                    "--omit-header", "--sort-output", "-o", str(out), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with open(out, "rb") as pot:
        return ids(read_po(pot))


def test_the_template_holds_every_sentence_the_code_marks(extracted):
    with open(TRANSLATIONS / "messages.pot", "rb") as pot:
        assert ids(read_po(pot)) == extracted
    assert "Please enter your phone number." in extracted
    assert "We can only call numbers in %(countries)s." in extracted


def test_every_promised_language_is_offered():
    assert set(LANGUAGES) == PROMISED
    assert set(TRANSLATED) == PROMISED - {"en"}


@pytest.mark.parametrize("language", TRANSLATED)
def test_every_sentence_is_translated_with_its_placeholders(extracted, language):
    catalogue = read(language)
    assert not catalogue.fuzzy, "the catalogue's header is marked fuzzy"
    assert ids(catalogue) == extracted
    for message in catalogue:
        if not message.id:
            continue
        assert message.string and not message.fuzzy, message.id
        # A language may order the parts of a sentence its own way, never drop one.
        assert (Counter(PLACEHOLDER.findall(message.string))
                == Counter(PLACEHOLDER.findall(message.id))), message.id
        assert "%" not in PLACEHOLDER.sub("", message.string), message.id
        assert message.string != message.id or len(message.id) < 12, message.id


@pytest.mark.parametrize("language", TRANSLATED)
def test_the_compiled_catalogue_is_the_one_written(language):
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    with open(folder / "messages.mo", "rb") as mo:
        compiled = {message.id: message.string for message in read_mo(io.BytesIO(mo.read()))
                    if message.id}
    written = {message.id: message.string for message in read(language) if message.id}
    assert compiled == written
