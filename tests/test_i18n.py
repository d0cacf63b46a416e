"""Every user-visible string is translated into Simplified Chinese; the catalogues are current."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
SOURCES = (
    "config",
    "templates",
    "accounts",
    "catalog",
    "territory",
    "retailers",
    "settlement",
    "allocation",
    "visits",
    "manage.py",
)


def catalogues(root: Path) -> dict[str, polib.POFile]:
    return {
        str(path.relative_to(root)): polib.pofile(str(path))
        for path in sorted(root.glob("**/locale/zh_Hans/LC_MESSAGES/django.po"))
        if ".venv" not in path.parts
    }


def test_every_message_is_translated_and_compiled():
    found = catalogues(ROOT)
    assert len(found) >= 7
    for name, po in found.items():
        untranslated = [e.msgid for e in po.untranslated_entries()]
        fuzzy = [e.msgid for e in po.fuzzy_entries()]
        assert untranslated == [], f"{name}: untranslated {untranslated}"
        assert fuzzy == [], f"{name}: fuzzy {fuzzy}"
        mo = polib.mofile(str(ROOT / name)[:-3] + ".mo")
        compiled = {(e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo}
        expected = {
            (e.msgid, e.msgstr, tuple(sorted(e.msgstr_plural.items())))
            for e in po.translated_entries()
        }
        assert expected <= compiled, f"{name}: the .mo is older than the .po (run make messages)"


@pytest.mark.slow
def test_catalogues_hold_every_string_in_the_code(tmp_path):
    """makemessages on a copy of the sources finds no string that the catalogues lack."""
    for name in SOURCES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(
                source, tmp_path / name, ignore=shutil.ignore_patterns("tests", "__pycache__")
            )
        else:
            shutil.copy(source, tmp_path / name)
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "zh_Hans", "--no-obsolete"],
        cwd=tmp_path,
        check=True,
        capture_output=True,
    )
    fresh, current = catalogues(tmp_path), catalogues(ROOT)
    for name, po in fresh.items():
        wanted = {e.msgid for e in po}
        have = {e.msgid for e in current[name]}
        assert wanted - have == set(), f"{name} lacks {sorted(wanted - have)} (run make messages)"
