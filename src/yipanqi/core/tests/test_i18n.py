"""Chinese first: every string in the catalogue has its simplified-Chinese translation."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

PO = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.po"


def _entries():
    text = PO.read_text(encoding="utf-8")
    for block in text.split("\n\n")[1:]:  # the first block is the header
        msgid = re.search(r'^msgid "(.*)"$', block, re.M)
        if msgid:
            yield block


def test_catalogue_is_complete():
    blocks = list(_entries())
    assert len(blocks) > 200
    untranslated = [b for b in blocks if re.search(r'^msgstr ""\s*\Z', b.strip() + "\n", re.M) or "#, fuzzy" in b]
    assert untranslated == []


def test_compiled_catalogue_translates():
    with translation.override("zh-hans"):
        assert translation.gettext("Cooperation circle") == "协作区"
    with translation.override("en"):
        assert translation.gettext("Cooperation circle") == "Cooperation circle"
