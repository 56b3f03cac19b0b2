"""The words for the practice template's codes and sections, in the UI language."""
from __future__ import annotations

from babel import Locale
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

TARGET_GROUPS = {
    "refugees": _l("Refugees and beneficiaries of international protection"),
    "asylum-seekers": _l("Asylum seekers"),
    "temporary-protection": _l("People under temporary protection"),
    "women": _l("Women and girls"),
    "children": _l("Children and young people"),
    "unaccompanied-minors": _l("Unaccompanied minors"),
    "families": _l("Families"),
    "older": _l("Older people"),
    "disability": _l("Persons with disabilities"),
    "lgbtiq": _l("LGBTIQ+ people"),
    "host-community": _l("The host community"),
    "professionals": _l("Staff of municipalities and service providers"),
    "employers": _l("Employers"),
}
FUNDING_BANDS = {
    "none": _l("No dedicated funding"),
    "under-10k": _l("Under €10,000 a year"),
    "10k-100k": _l("€10,000–100,000 a year"),
    "100k-1m": _l("€100,000–1 million a year"),
    "over-1m": _l("Over €1 million a year"),
}
# The template's text sections, in the order the practice page shows them.
SECTIONS = {
    "challenge": _l("Challenge and goals"),
    "how_it_works": _l("How it works"),
    "results": _l("Results"),
    "evaluation": _l("Evaluation (how and by whom)"),
    "transferability": _l("Transferability: what another municipality needs to copy it"),
}
PROVENANCE = {
    "handbook": _l("UNHCR handbook"),
    "curator": _l("Submitted by a curator"),
    "public": _l("Public suggestion"),
    "import": _l("Imported"),
}


def target_group_label(code: str) -> str:
    return str(TARGET_GROUPS.get(code, code))


def funding_band_label(code: str) -> str:
    return str(FUNDING_BANDS.get(code, code))


def language_name(code: str) -> str:
    return Locale.parse(str(get_locale())).languages.get(code, code)
