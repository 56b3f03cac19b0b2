"""Validate query parameters: coerce types, check ranges, say which parameter is wrong and why."""
from __future__ import annotations

import re

from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from kb.core.vocabulary import COUNTRIES
from kb.core.models import Activity, Need, SuccessFactor
from kb.search import TYPES, Filters
from kb.web.errors import BadParameter
from kb.web.services import db

MAX_QUERY = 1000
MAX_LIMIT = 100
MAX_OFFSET = 10_000


def integer(args: MultiDict, name: str, default: int | None, low: int, high: int) -> int | None:
    raw = args.get(name, "")
    if raw == "":
        return default
    if not re.fullmatch(r"\s*\d+\s*", raw):
        raise BadParameter(f"{name} must be a whole number from {low} to {high}, got {raw!r}", name)
    value = int(raw)
    if not low <= value <= high:
        raise BadParameter(f"{name} must be from {low} to {high}, got {value}", name)
    return value


def query_text(args: MultiDict) -> str:
    q = args.get("q", "")
    if len(q) > MAX_QUERY:
        raise BadParameter(f"q must be at most {MAX_QUERY} characters, got {len(q)}", "q")
    return q.replace("\x00", " ")


def types(args: MultiDict) -> tuple[str, ...]:
    values = [t for raw in args.getlist("type") for t in raw.split(",") if t.strip()]
    unknown = [t for t in values if t not in TYPES]
    if unknown:
        raise BadParameter(f"unknown type {unknown[0]!r}; use one of {', '.join(TYPES)}", "type")
    return tuple(dict.fromkeys(values))


def country(args: MultiDict) -> str | None:
    raw = args.get("country", "").strip()
    if not raw:
        return None
    code = raw.upper()
    if not re.fullmatch(r"[A-Z]{2}", code) or code not in COUNTRIES:
        raise BadParameter(f"country must be an ISO 3166-1 alpha-2 code such as PL, got {raw!r}",
                           "country")
    return code


def _vocabulary_code(args: MultiDict, name: str, model) -> str | None:
    """A code of a controlled vocabulary (needs, activities), or a 400 listing the codes."""
    raw = args.get(name, "").strip()
    if raw and db().get(model, raw) is None:
        codes = ", ".join(db().scalars(select(model.code).order_by(model.position)))
        raise BadParameter(f"unknown {name} {raw!r}; use one of {codes}", name)
    return raw or None


def need(args: MultiDict) -> str | None:
    return _vocabulary_code(args, "need", Need)


def activity(args: MultiDict) -> str | None:
    return _vocabulary_code(args, "activity", Activity)


def factor(args: MultiDict) -> str | None:
    raw = args.get("factor", "").strip()
    if raw and db().get(SuccessFactor, raw) is None:
        raise BadParameter(f"unknown success factor {raw!r}", "factor")
    return raw or None


def quality(args: MultiDict) -> str | None:
    raw = args.get("quality", "").strip()
    if raw not in ("", "good"):
        raise BadParameter(f"quality must be \"good\", got {raw!r}", "quality")
    return raw or None


def sort(args: MultiDict) -> str:
    raw = args.get("sort", "").strip() or "relevance"
    if raw not in ("relevance", "quality"):
        raise BadParameter(f"sort must be relevance or quality, got {raw!r}", "sort")
    return raw


def filters(args: MultiDict) -> Filters:
    return Filters(types=types(args), area=integer(args, "area", None, 1, 6),
                   country=country(args), factor=factor(args), need=need(args),
                   quality=quality(args), activity=activity(args))


def paging(args: MultiDict, default_limit: int = 10) -> tuple[int, int]:
    return (integer(args, "limit", default_limit, 1, MAX_LIMIT),
            integer(args, "offset", 0, 0, MAX_OFFSET))
