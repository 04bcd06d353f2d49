"""The Russian and Ukrainian catalogs are complete and compiled: every text the bots' code marks
for translation is in them, translated (no fuzzy guesses), with the same placeholders, and the
committed .mo holds exactly what the .po says."""

import ast
import gettext
import re
from pathlib import Path

import pytest

BOTS = Path(__file__).resolve().parents[3] / "bots"
LANGUAGES = ["ru", "uk"]
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
# Translation functions and the positions of their context, singular and plural arguments.
MARKERS = {
    "_": (None, 0, None),  # gettext imported as _, which makemessages knows too
    "gettext": (None, 0, None),
    "gettext_lazy": (None, 0, None),
    "ngettext": (None, 0, 1),
    "ngettext_lazy": (None, 0, 1),
    "pgettext": (0, 1, None),
    "pgettext_lazy": (0, 1, None),
    "npgettext": (0, 1, 2),
    "npgettext_lazy": (0, 1, 2),
}


def po_entries(language: str) -> list[dict]:
    """The entries of a .po file (a small reader: the format makemessages writes)."""
    text = (BOTS / "locale" / language / "LC_MESSAGES" / "django.po").read_text()
    entries = []
    for block in text.strip().split("\n\n"):
        entry = {"flags": set(), "context": None, "msgid": None, "plural": None, "msgstr": {}, "obsolete": False}
        field = None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith('"'):
                value = ast.literal_eval(line)
                if isinstance(field, int):
                    entry["msgstr"][field] += value
                else:
                    entry[field] += value
            else:
                keyword, _, value = line.partition(" ")
                value = ast.literal_eval(value)
                field = {"msgctxt": "context", "msgid": "msgid", "msgid_plural": "plural"}.get(keyword)
                if field is None:  # msgstr or msgstr[n]
                    field = int(keyword[7:-1]) if "[" in keyword else 0
                    entry["msgstr"][field] = value
                else:
                    entry[field] = value
        entries.append(entry)
    return entries


def messages(language: str) -> list[dict]:
    """The entries that are texts (not the header, not obsolete)."""
    return [entry for entry in po_entries(language) if entry["msgid"] and not entry["obsolete"]]


def key(context: str | None, msgid: str) -> str:
    return f"{context}\x04{msgid}" if context else msgid


def marked_in_code() -> set[str]:
    """Every text the bots' code passes to a translation function."""
    found = set()
    for path in BOTS.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
            if name not in MARKERS:
                continue
            context, singular, _ = MARKERS[name]
            args = [arg.value if isinstance(arg, ast.Constant) else None for arg in node.args]
            assert args[singular] is not None, f"{path}:{node.lineno}: {name}() of something not a literal"
            found.add(key(args[context] if context is not None else None, args[singular]))
    return found


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_catalog_has_every_text_of_the_code_and_no_other(language):
    in_catalog = {key(entry["context"], entry["msgid"]) for entry in messages(language)}
    in_code = marked_in_code()

    assert in_code - in_catalog == set(), "run makemessages (see bots/locale/README.md) and translate them"
    assert in_catalog - in_code == set(), "texts the code no longer has: run makemessages"


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_text_is_translated_and_none_is_a_fuzzy_guess(language):
    entries = messages(language)

    assert len(entries) > 50
    for entry in entries:
        forms = 3 if entry["plural"] else 1
        assert "fuzzy" not in entry["flags"], entry["msgid"]
        assert sorted(entry["msgstr"]) == list(range(forms)), entry["msgid"]
        assert all(entry["msgstr"].values()), f"untranslated: {entry['msgid']!r}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_the_text(language):
    for entry in messages(language):
        expected = set(PLACEHOLDER.findall(entry["plural"] or entry["msgid"]))
        for form in entry["msgstr"].values():
            assert set(PLACEHOLDER.findall(form)) == expected, (entry["msgid"], form)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_holds_what_the_po_file_says(language):
    with open(BOTS / "locale" / language / "LC_MESSAGES" / "django.mo", "rb") as mo:
        compiled = gettext.GNUTranslations(mo)._catalog
    header = next(entry for entry in po_entries(language) if entry["msgid"] == "")["msgstr"][0]
    # msgfmt leaves out the template's creation date, which says nothing about the texts.
    expected = {"": re.sub(r"POT-Creation-Date: [^\n]*\n", "", header)}
    for entry in messages(language):
        msgid = key(entry["context"], entry["msgid"])
        if entry["plural"]:
            expected.update({(msgid, n): form for n, form in entry["msgstr"].items()})
        else:
            expected[msgid] = entry["msgstr"][0]

    assert compiled == expected, "run compilemessages (see bots/locale/README.md)"
