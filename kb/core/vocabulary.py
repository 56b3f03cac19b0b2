"""Vocabularies every layer shares: country and language codes, target groups and funding
bands, folding to ASCII, slugs."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from babel import Locale

# ISO 3166-1 alpha-2 codes, from Babel's locale data (names come from it in the UI language).
# Babel's two-letter territories are places, less the groupings and codes that name none:
# the European Union, the eurozone, the United Nations, outlying Oceania, the pseudo-locales'
# and the unknown region.
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})
COUNTRIES = frozenset(code for code in Locale("en").territories
                      if len(code) == 2 and code.isalpha() and code not in NOT_COUNTRIES)

# Types of organisation an assessment may say it is (the handbook is for all of them); some
# checklist items do not apply to some types (corpus/organisation_types.toml).
ORGANISATION_TYPES = ("municipality", "ngo", "faith", "education", "business", "other")

# The countries a practitioner in Latvia most likely names: Latvia, its neighbours and the
# countries most refugees in Latvia come from (forms list them before the others).
NEAR_COUNTRIES = ("LV", "EE", "LT", "PL", "FI", "SE", "DE", "UA", "BY", "RU")

# ISO 639-1 language codes, from Babel's locale data (names come from it in the UI language).
LANGUAGE_CODES = frozenset(code for code in Locale("en").languages
                      if len(code) == 2 and code.isalpha())

# Who a practice is for (the practice template's target groups), and its funding in bands
# (euros a year); the web layer words them (kb.web.labels).
TARGET_GROUPS = ("refugees", "asylum-seekers", "temporary-protection", "women", "children",
                 "unaccompanied-minors", "families", "older", "disability", "lgbtiq",
                 "host-community", "professionals", "employers")
FUNDING_BANDS = ("none", "under-10k", "10k-100k", "100k-1m", "over-1m")

# Letters NFKD does not take apart into a base letter and a mark.
_LETTERS = str.maketrans({"ł": "l", "ı": "i", "ß": "ss", "ø": "o", "đ": "d", "ħ": "h"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its diacritics: 'Mājoklis Ļubļinā' -> 'majoklis lublina'."""
    decomposed = unicodedata.normalize("NFKD", text.lower().translate(_LETTERS))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def slugify(text: str, max_length: int = 80) -> str:
    """ASCII slug of ``text``: the same text always gives the same slug."""
    ascii_text = fold(text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")
    return slug[:max_length].rstrip("-")


LANGUAGES = ("lv", "en")  # the UI's languages: Latvian (the handbook's), English


def country_name(code: str, lang: str) -> str:
    """The country's name in ``lang`` (Babel's locale data); the code when it has none."""
    return _territories(lang).get(code, code)


@lru_cache(maxsize=8)
def _territories(lang: str) -> dict[str, str]:
    return dict(Locale.parse(lang).territories)
