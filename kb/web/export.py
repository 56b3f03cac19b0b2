"""A search's result set to take away: every practice of it (all pages, in its order), with
its stable ID and every field the API shows of a practice, as JSON or CSV.

The CSV's header is in the UI language; its columns are the JSON's fields, flattened (lists
joined by a space, web addresses by a line break; the quality score in two columns). A cell
that a spreadsheet would run as a formula begins with an apostrophe (`csv_cell`); the JSON
export is exact.
Bounded: a result set of more than MAX_ROWS practices is refused, not cut short.
"""
from __future__ import annotations

import csv
import io

from flask_babel import lazy_gettext as _l

from kb.curation.transfer import csv_cell
from kb.search.documents import added

FORMATS = ("json", "csv")
MAX_ROWS = 1000  # practices in one export; the handbook has 62

# (column, its header): the CSV's columns, in order.
COLUMNS = (
    ("id", _l("ID")), ("title", _l("Title")), ("title_en", _l("Title in English")),
    ("organisation", _l("Organisation")), ("city", _l("City")), ("country", _l("Countries")),
    ("area", _l("Key area")), ("success_factor", _l("Success factor ID")),
    ("success_factor_name", _l("Success factor")),
    ("success_factor_name_en", _l("Success factor in English")),
    ("needs", _l("Needs")), ("activities", _l("Activities")), ("text", _l("Description")),
    ("summary_en", _l("Summary in English")), ("urls", _l("Web addresses")),
    ("source", _l("Source")), ("quality_overall", _l("Quality score (%)")),
    ("good_practice", _l("Good practice (scored)")), ("correction_note", _l("Correction note")),
    ("added", _l("Date added")),
)


def exported(practice_json: dict, practice) -> dict:
    """A practice as the export lists it: the API's practice with the date it was added."""
    return {**practice_json, "added": added(practice)}


def row(record: dict) -> dict:
    """One exported practice as a CSV row (by column)."""
    flat = {**record, "quality_overall": record["quality"]["overall"],
            "good_practice": record["quality"]["good_practice"]}
    for name in ("country", "needs", "activities"):
        flat[name] = " ".join(flat[name])
    flat["urls"] = "\n".join(flat["urls"])
    return {column: "" if flat[column] is None else csv_cell(flat[column])
            for column, _ in COLUMNS}



def to_csv(records: list[dict]) -> str:
    """The records as CSV, the header in the UI language (`csv` quotes what needs it)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([str(label) for _, label in COLUMNS])
    for record in records:
        writer.writerow(row(record).values())
    return out.getvalue()


def too_many(total: int) -> str:
    return (f"the search has {total} practices and an export holds at most {MAX_ROWS}: narrow "
            "it with words or filters")
