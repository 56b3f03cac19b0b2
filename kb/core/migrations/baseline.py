"""kb's schema as the last release before migrations (commit c71bc86) created it. Frozen.

Revision 0001 creates exactly these tables, and ``kb db upgrade`` brings a database that kb
created before it had migrations up to them (see ``legacy.py``). Never edit this file: a change
to the models is a new revision (``kb db revision MESSAGE``). The Python-side defaults are kept
because the legacy upgrade fills added columns with them.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Boolean, Column, DateTime, Double, ForeignKey, Integer, MetaData,
                        String, Table, Text)

REVISION = "0001"


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


metadata = MetaData()

Table(
    "area_reference", metadata,
    Column("area_id", Integer, ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    Column("reference_id", String(160), ForeignKey("reference.id", ondelete="CASCADE"),
           primary_key=True),
)

Table(
    "area", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("title", String(300), nullable=False),
    Column("motto", Text, nullable=False),
    Column("introduction", Text, nullable=False),
    Column("benefits", JSON, nullable=False, default=list),
    Column("title_en", String(300), nullable=False, default=""),
    Column("motto_en", Text, nullable=False, default=""),
)

Table(
    "success_factor", metadata,
    Column("id", String(120), primary_key=True),
    Column("area_id", Integer, ForeignKey("area.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("name", String(300), nullable=False),
    Column("description", Text, nullable=False),
    Column("name_en", String(300), nullable=False, default=""),
)

Table(
    "checklist", metadata,
    Column("id", String(120), primary_key=True),
    Column("area_id", Integer, ForeignKey("area.id"), nullable=True),
    Column("position", Integer, nullable=False),
    Column("title", String(300), nullable=False),
    Column("introduction", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column("title_en", String(300), nullable=False, default=""),
)

Table(
    "checklist_item", metadata,
    Column("id", String(140), primary_key=True),
    Column("checklist_id", String(120), ForeignKey("checklist.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("needs", JSON, nullable=False, default=list),
    Column("keywords", JSON, nullable=False, default=list),
    Column("activities", JSON, nullable=False, default=list),
    Column("text_en", Text, nullable=False, default=""),
    Column("keywords_en", JSON, nullable=False, default=list),
)

Table(
    "practice", metadata,
    Column("id", String(160), primary_key=True),
    Column("source", String(20), nullable=False, default='handbook', index=True),
    Column("status", String(20), nullable=False, default='published', index=True),
    Column("position", Integer, nullable=False, default=0),
    Column("area_id", Integer, ForeignKey("area.id"), nullable=False, index=True),
    Column("success_factor_id", String(120), ForeignKey("success_factor.id"), nullable=True),
    Column("title", String(300), nullable=False),
    Column("organisation", String(300), nullable=False, default=""),
    Column("city", String(120), nullable=False, default=""),
    Column("text", Text, nullable=False),
    Column("urls", JSON, nullable=False, default=list),
    Column("title_en", String(300), nullable=False, default=""),
    Column("summary_en", Text, nullable=False, default=""),
    Column("submitted_by", Integer, ForeignKey("curator.id"), nullable=True),
    Column("submitted_via", String(20), nullable=False, default=""),
    Column("contact", String(300), nullable=False, default=""),
    Column("source_note", String(500), nullable=False, default=""),
    Column("review_reason", Text, nullable=False, default=""),
    Column("quality_overall", Double, nullable=True),
    Column("good_practice", Boolean, nullable=False, default=False),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
)

Table(
    "practice_country", metadata,
    Column("practice_id", String(160), ForeignKey("practice.id", ondelete="CASCADE"),
           primary_key=True),
    Column("country", String(2), primary_key=True, index=True),
    Column("position", Integer, nullable=False, default=0),
)

Table(
    "need", metadata,
    Column("code", String(40), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("label_lv", String(120), nullable=False),
    Column("label_en", String(120), nullable=False),
    Column("keywords_lv", Text, nullable=False, default=""),
    Column("keywords_en", Text, nullable=False, default=""),
)

Table(
    "practice_need", metadata,
    Column("practice_id", String(160), ForeignKey("practice.id", ondelete="CASCADE"),
           primary_key=True),
    Column("need", String(40), primary_key=True, index=True),
)

Table(
    "activity", metadata,
    Column("code", String(40), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("label_lv", String(120), nullable=False),
    Column("label_en", String(120), nullable=False),
    Column("about", Text, nullable=False, default=""),
)

Table(
    "practice_activity", metadata,
    Column("practice_id", String(160), ForeignKey("practice.id", ondelete="CASCADE"),
           primary_key=True),
    Column("activity", String(40), primary_key=True, index=True),
    Column("position", Integer, nullable=False, default=0),
)

Table(
    "reference", metadata,
    Column("id", String(160), primary_key=True),
    Column("position", Integer, nullable=False, default=0),
    Column("citation", Text, nullable=False),
    Column("authors", String(400), nullable=False, default=""),
    Column("title", String(400), nullable=False),
    Column("year", Integer, nullable=True),
    Column("description", Text, nullable=False, default=""),
    Column("urls", JSON, nullable=False, default=list),
)

Table(
    "quality_domain", metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("name", String(200), nullable=False),
)

Table(
    "guiding_question", metadata,
    Column("id", String(20), primary_key=True),
    Column("domain_id", Integer, ForeignKey("quality_domain.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
)

Table(
    "quality_indicator", metadata,
    Column("id", String(20), primary_key=True),
    Column("question_id", String(20), ForeignKey("guiding_question.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
)

Table(
    "glossary_term", metadata,
    Column("id", String(120), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("term", String(200), nullable=False),
    Column("definition", Text, nullable=False),
)

Table(
    "assessment", metadata,
    Column("id", Integer, primary_key=True),
    Column("token", String(64), nullable=False, index=True, unique=True),
    Column("organisation", String(200), nullable=False, default=""),
    Column("organisation_type", String(30), nullable=False, default=""),
    Column("version", Integer, nullable=False, default=1),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
)

Table(
    "assessment_answer", metadata,
    Column("assessment_id", Integer, ForeignKey("assessment.id", ondelete="CASCADE"),
           primary_key=True),
    Column("item_id", String(140), primary_key=True),
    Column("status", String(10), nullable=False),
)

Table(
    "assessment_note", metadata,
    Column("assessment_id", Integer, ForeignKey("assessment.id", ondelete="CASCADE"),
           primary_key=True),
    Column("page", String(20), primary_key=True),
    Column("text", Text, nullable=False, default=""),
)

Table(
    "curator", metadata,
    Column("id", Integer, primary_key=True),
    Column("email", String(254), nullable=False, index=True, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("active", Boolean, nullable=False, default=True),
    Column("created_at", DateTime(timezone=True), nullable=False, default=utcnow),
)

Table(
    "practice_change", metadata,
    Column("id", Integer, primary_key=True),
    Column("practice_id", String(160), nullable=False, index=True),
    Column("curator_id", Integer, ForeignKey("curator.id"), nullable=True),
    Column("at", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("action", String(30), nullable=False),
    Column("fields", JSON, nullable=False, default=dict),
    Column("reason", Text, nullable=False, default=""),
)

Table(
    "quality_score", metadata,
    Column("practice_id", String(160), ForeignKey("practice.id", ondelete="CASCADE"),
           primary_key=True),
    Column("indicator_id", String(20), primary_key=True),
    Column("value", String(10), nullable=False),
    Column("curator_id", Integer, ForeignKey("curator.id"), nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow),
)

Table(
    "rate_counter", metadata,
    Column("key", String(300), primary_key=True),
    Column("window_start", DateTime(timezone=True), nullable=False, default=utcnow),
    Column("count", Integer, nullable=False, default=0),
)
