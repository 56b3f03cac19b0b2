"""Template helpers: country names in the UI language, need and activity labels, the English
wording of handbook records in the English UI, links that keep state."""
from __future__ import annotations

from flask import Flask, g, request, url_for
from flask_babel import format_date, format_datetime, format_decimal, get_locale
from markupsafe import Markup
from sqlalchemy import select

from kb.search import FACETS
from kb.core import vocabulary
from kb.core.models import Activity, Need
from kb.web import labels
from kb.web.services import db


def country_name(code: str) -> str:
    return vocabulary.country_name(code, str(get_locale()))


def _label(model, code: str) -> str:
    """The UI-language label of a need or activity code (the code itself when unknown)."""
    cache = g.setdefault("vocabularies", {})
    if model not in cache:
        cache[model] = {r.code: r for r in db().scalars(select(model).order_by(model.position))}
    record = cache[model].get(code)
    if record is None:
        return code
    return record.label_en if str(get_locale()) == "en" else record.label_lv


def need_label(code: str) -> str:
    return _label(Need, code)


def activity_label(code: str) -> str:
    return _label(Activity, code)


def localized(record, name: str) -> str:
    """``record``'s ``name`` in the UI language: its ``name_en`` in English when it has one.

    The handbook is Latvian; corpus/handbook_en.toml gives areas, success factors, checklists
    and their items English wording, corpus/handbook_en_text.toml and practices_en_text.toml
    the full texts in kb's English rendering, and curators may give a practice an English
    title.
    """
    get = record.get if isinstance(record, dict) else lambda key: getattr(record, key, None)
    if str(get_locale()) == "en" and get(f"{name}_en"):
        return get(f"{name}_en")
    return get(name)


def latvian_lang(record, name: str) -> Markup:
    """` lang="lv"` where ``localized(record, name)`` shows the Latvian text in the English UI
    (no English rendering of it yet); nothing where it shows English or the UI is Latvian."""
    get = record.get if isinstance(record, dict) else lambda key: getattr(record, key, None)
    if str(get_locale()) == "en" and not get(f"{name}_en") and get(name):
        return Markup(' lang="lv"')
    return Markup("")


def url_with(endpoint: str | None = None, **changes) -> str:
    """The current URL with some query parameters changed (None removes one; a list repeats
    it); repeated parameters (``country=LV&country=DE``) are kept."""
    args = {key: request.args.getlist(key) for key in request.args}
    for key, value in changes.items():
        if value is None:
            args.pop(key, None)
        else:
            args[key] = value
    if "page" not in changes:
        args.pop("page", None)
    endpoint = endpoint or request.endpoint
    if endpoint is None:  # an unknown URL (a 404 page): link to the home page instead
        return url_for("main.home", **{k: v for k, v in changes.items() if v is not None})
    return url_for(endpoint, **(request.view_args or {}), **args)


def url_toggle(name: str, value: str, selected: list[str]) -> str:
    """The current URL with ``value`` added to facet ``name``'s ``selected`` values, or taken
    out of them when it is one (several values of a facet: any of them)."""
    values = [v for v in selected if v != value] if value in selected else [*selected, value]
    return url_with(**{name: values or None})


def record_url(hit: dict) -> str | None:
    """Where a search hit's record is shown: its page, or its place on a page (a checklist
    item, success factor or reference on its key area's page, a term in the glossary, a
    general checklist item on the checklists page); None when it has no place."""
    kind, record_id = hit["type"], hit["id"]
    area = hit["area"] or (hit["areas"][0] if hit["areas"] else None)
    if kind == "practice":
        return url_for("main.practice", practice_id=record_id)
    if kind == "area":
        return url_for("main.area", number=int(record_id))
    if kind == "glossary_term":
        return url_for("main.glossary", _anchor=record_id)
    if kind == "checklist_item" and area is None:
        return url_for("main.checklists", _anchor=record_id)
    return url_for("main.area", number=area, _anchor=record_id) if area else None


def _day(iso: str | None) -> str:
    """An ISO 8601 moment as the UI language writes a date ("" for none)."""
    from datetime import datetime
    return format_date(datetime.fromisoformat(iso), "long") if iso else ""


def percent(value) -> str:
    """A score in percent as the UI language writes it ("70,8 %" in Latvian); "—" for none."""
    if value is None:
        return "—"
    return f"{format_decimal(value, format='#,##0.#')} %"


def register(app: Flask) -> None:
    app.jinja_env.globals.update(country_name=country_name, need_label=need_label,
                                 activity_label=activity_label, localized=localized,
                                 latvian_lang=latvian_lang,
                                 facet_registry=FACETS,
                                 url_with=url_with, url_toggle=url_toggle,
                                 record_url=record_url, locale=lambda: str(get_locale()),
                                 target_group_label=labels.target_group_label,
                                 funding_band_label=labels.funding_band_label,
                                 language_name=labels.language_name,
                                 template_sections=labels.SECTIONS,
                                 provenance_labels=labels.PROVENANCE,
                                 format_number=format_decimal, format_day=_day)
    app.jinja_env.filters["snippet_html"] = lambda s: Markup(s)  # escaped by kb.search.snippets
    app.jinja_env.filters.update(need_label=need_label, activity_label=activity_label,
                                 percent=percent, day=_day)
    # also for macros imported without the context (curate/_changes.html)
    app.jinja_env.globals.update(format_number=format_decimal, format_datetime=format_datetime)
