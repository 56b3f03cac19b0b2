"""Export practices (JSONL or CSV) and import them from JSONL: all or nothing.

`kb export` writes the published practices, a `schema.PracticeRecord` a line; `kb export
--all` every practice -- the curators' unpublished ones too -- each with its whole record
(`archive`: status, provenance, timestamps, scores, change log, revision), after a line for
each curator the records name. `kb import` reads either.

Lines are read on "\\n" only: `json.dumps(ensure_ascii=False)` writes U+2028, U+2029 and U+0085
raw inside strings, and `str.splitlines` would cut a line at each of them.

Import is one transaction: every line is checked first, and one bad line imports nothing --
every problem is reported with its line number, so a file is fixed in one go. A handbook
practice's line is checked against this database's (which `kb ingest` wrote): when its fields
match they are skipped, and its curators' overlay (correction note, scores, hiding, change log)
restored from a full export. When they differ (the export is older than this database's
`kb ingest`: a repair rule or a data file changed since), this database's fields are kept all
the same -- `kb ingest` owns them -- the overlay is restored, and the report names the fields.
"""
from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from kb import catalogue
from kb.core.models import (CURATOR, HANDBOOK, PUBLISHED, Curator, Practice, PracticeChange,
                            QualityIndicator)
from kb.curation import archive, review, schema
from kb.curation.accounts import NO_PASSWORD

# The columns of a CSV export: a `schema.PracticeRecord`, its ID first.
FIELDS = ("id", *(name for name in schema.PracticeRecord.model_fields if name != "id"))


def practice_record(p: Practice) -> dict:
    """A practice as a line of `kb export` (a `schema.PracticeRecord`)."""
    return {"id": p.id, **schema.read(p), "source": p.source}


def published(session: Session) -> list[Practice]:
    return list(session.scalars(catalogue.published()))


def everything(session: Session) -> list[Practice]:
    """Every practice, whatever its status: the handbook's in its order, then the curators'."""
    from kb.core.models import PRACTICE_LOADS
    return list(session.scalars(select(Practice).options(*PRACTICE_LOADS).order_by(
        Practice.source != HANDBOOK, Practice.area_id, Practice.position, Practice.id)))


def lines(text: str) -> list[str]:
    """The lines of a JSONL text: split on "\\n" only (a "\\r" before it is JSON whitespace)."""
    parts = text.split("\n")
    return parts[:-1] if parts and parts[-1] == "" else parts


def export_jsonl(session: Session, full: bool = False) -> str:
    """The published practices a line each; ``full``: every practice with its whole record,
    after a line for each curator named."""
    if not full:
        return "".join(_line(practice_record(p)) for p in published(session))
    curators = list(session.scalars(select(Curator).order_by(Curator.id)))
    emails = {c.id: c.email for c in curators}
    related = archive.Related(session)
    records = [{**practice_record(p), **archive.of(related, p, emails)}
               for p in everything(session)]
    named = set().union(*(archive.Archive.model_validate(r).emails() for r in records))
    return ("".join(_line(archive.curator_line(c)) for c in curators if c.email in named)
            + "".join(_line(r) for r in records))


def _line(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False) + "\n"


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """``value`` as a spreadsheet shows it and never runs it: text beginning as a formula
    would (curators' and the public's text may) gets an apostrophe before it (OWASP's advice
    on CSV injection). JSON and JSONL exports are exact."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_csv(session: Session) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=FIELDS)
    writer.writeheader()
    for p in published(session):
        row = practice_record(p)
        for name in schema.LISTS:  # codes have no spaces, web addresses no line breaks
            row[name] = ("\n" if name == "urls" else " ").join(row[name])
        writer.writerow({name: csv_cell(value) for name, value in row.items()})
    return out.getvalue()


class ImportError_(ValueError):
    """Lines that cannot be imported; nothing was imported."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    handbook: list[str] = field(default_factory=list)  # handbook lines: fields skipped
    differing: dict[str, list[str]] = field(default_factory=dict)  # ... and the fields unlike ours
    curators: list[str] = field(default_factory=list)  # accounts created (without a password)


@dataclass
class _Line:
    number: int
    data: dict
    values: dict | None            # the schema fields to write; None: a handbook line
    whole: archive.Archive | None  # the whole record, from `kb export --all`
    differing: list[str] = field(default_factory=list)  # a handbook line's fields unlike ours


def import_jsonl(session: Session, text: str, search=None) -> ImportReport:
    """Check every line, then write them all: curators' practices are created or updated
    (as published, unless the line carries its whole record); handbook lines keep this
    database's fields and restore their curators' record.

    With ``search`` (the search service) the practices become searchable when the session
    commits, in every running server too. Raises ImportError_ listing every bad line.
    """
    problems: list[str] = []
    parsed: list[_Line] = []
    curators: dict[str, archive.CuratorLine] = {}
    seen: set[str] = set()
    for number, line in enumerate(lines(text), 1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"line {number}: not JSON ({exc.msg})")
            continue
        if not isinstance(data, dict):
            problems.append(f"line {number}: expected a JSON object")
            continue
        if data.get("kind") not in (None, "curator", "practice"):
            problems.append(f"line {number}: unknown kind {str(data['kind'])[:40]!r} (a line is "
                            "a practice, or \"kind\": \"curator\")")
            continue
        if data.get("kind") == "curator":
            try:
                curator = archive.CuratorLine.model_validate(data)
            except ValidationError as exc:
                problems += _problems(number, exc)
            else:
                curators[curator.email.strip().lower()] = curator
            continue
        problems += _check_practice(session, number, data, seen, parsed)
    known = set(session.scalars(select(Curator.email))) | set(curators)
    for entry in parsed:
        missing = sorted(entry.whole.emails() - known) if entry.whole else []
        if missing:
            problems.append(f"line {entry.number}: names curators neither in this database nor "
                            f"in the file: {', '.join(missing)}")
    problems += _unknown_indicators(session, parsed)
    if problems:
        raise ImportError_(problems)
    return _write(session, parsed, curators, search)


def _problems(number: int, error: ValidationError) -> list[str]:
    return [f"line {number}: {'.'.join(map(str, e['loc'])) or 'line'}: {e['msg']}"
            for e in error.errors()]


def _check_practice(session: Session, number: int, data: dict, seen: set[str],
                    parsed: list[_Line]) -> list[str]:
    """The problems of a practice's line (none: it is added to ``parsed``)."""
    practice_id = str(data.get("id") or "").strip()
    if not practice_id or len(practice_id) > schema.ID_LENGTH:
        return [f"line {number}: id is required (at most {schema.ID_LENGTH} characters)"]
    if practice_id in seen:
        return [f"line {number}: id {practice_id!r} appears twice"]
    seen.add(practice_id)
    whole = None
    if "record" in data:
        try:
            whole = archive.Archive.model_validate(data)
        except ValidationError as exc:
            return _problems(number, exc)
    existing = session.get(Practice, practice_id)
    if data.get("source") == HANDBOOK or (existing is not None and existing.source == HANDBOOK):
        problem = _handbook_problem(number, practice_id, data, existing)
        if problem:
            return [problem]
        ours = schema.read(existing)
        differ = [name for name in schema.FIELDS if name in data and data[name] != ours[name]]
        parsed.append(_Line(number, data, None, whole, differ))
        return []
    for name in schema.LISTS:
        if not isinstance(data.get(name, []), list):
            return [f"line {number}: {name} must be a list"]
    try:
        values = review.clean_input(session, data)
    except review.ReviewError as exc:
        return [f"line {number}: {field}: {msg}" for field, msg in exc.errors.items()]
    parsed.append(_Line(number, data, values, whole))
    return []


def _handbook_problem(number: int, practice_id: str, data: dict,
                      existing: Practice | None) -> str | None:
    """Why a handbook practice's line cannot be imported here, or None."""
    if existing is None:
        return (f"line {number}: {practice_id!r} is a handbook practice this database does "
                "not have: run `kb ingest` first")
    if existing.source != HANDBOOK:
        return f"line {number}: {practice_id!r} is a curator's practice here, not the handbook's"
    if data.get("source") != HANDBOOK:
        return f"line {number}: {practice_id!r} is a handbook practice; `kb ingest` owns it"
    return None


def _unknown_indicators(session: Session, parsed: list[_Line]) -> list[str]:
    indicators = set(session.scalars(select(QualityIndicator.id)))
    problems = []
    for entry in parsed:
        unknown = sorted({s.indicator for s in entry.whole.scores} - indicators) \
            if entry.whole else []
        if unknown:
            problems.append(f"line {entry.number}: unknown quality indicators: "
                            f"{', '.join(unknown)}")
    return problems


def _write(session: Session, parsed: list[_Line], curators: dict[str, archive.CuratorLine],
           search) -> ImportReport:
    report = ImportReport()
    ids = dict(session.execute(select(Curator.email, Curator.id)).all())
    for email, line in curators.items():
        if email not in ids:  # an account to hold the name: no password opens it
            curator = Curator(email=email, password_hash=NO_PASSWORD, is_admin=line.is_admin,
                              active=False, created_at=line.created_at)
            session.add(curator)
            session.flush()
            ids[email] = curator.id
            report.curators.append(email)
    for entry in parsed:
        practice_id = str(entry.data["id"]).strip()
        practice = session.get(Practice, practice_id)
        if entry.values is None:
            report.handbook.append(practice_id)
            if entry.differing:
                report.differing[practice_id] = entry.differing
        else:
            created = practice is None
            if created:
                practice = Practice(id=practice_id, source=CURATOR, status=PUBLISHED,
                                    submitted_via="import", urls=[])
                session.add(practice)
            review.apply_values(practice, entry.values)  # the same field rules as the forms
            (report.created if created else report.updated).append(practice_id)
        session.flush()
        status = practice.status
        if entry.whole is not None:
            archive.restore(session, practice, entry.whole, ids)
        elif entry.values is not None:
            practice.status = PUBLISHED
            session.add(PracticeChange(practice_id=practice.id, action="imported",
                                       fields={"source": [None, "import"]}))
        session.flush()
        # A handbook practice's search document changes only when its status does.
        if search is not None and (entry.values is not None or practice.status != status):
            review.sync_search(search, session, practice)
    session.flush()
    return report
