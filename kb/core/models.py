"""Database models, named after the handbook's own vocabulary.

Nothing here is specific to one database: the same models run on SQLite and PostgreSQL.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (JSON, Column, DateTime, ForeignKey, Integer, LargeBinary, String, Table,
                        Text, false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship, selectinload

HANDBOOK = "handbook"  # Practice.source of records that `kb ingest` owns
CURATOR = "curator"    # Practice.source of records that curators own; ingest never touches them
PUBLISHED = "published"  # Practice.status of practices that search shows
PENDING = "pending"
REJECTED = "rejected"
CHANGES_REQUESTED = "changes_requested"
REVIEW_STATUSES = (PENDING, PUBLISHED, REJECTED, CHANGES_REQUESTED)
HIDDEN = "hidden"  # Practice.status of a handbook practice an admin hid; `kb ingest` keeps it so
PROVENANCES = (HANDBOOK, CURATOR, "public", "import")  # Practice.provenance


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    pass


area_reference = Table(
    "area_reference",
    Base.metadata,
    Column("area_id", ForeignKey("area.id", ondelete="CASCADE"), primary_key=True),
    Column("reference_id", ForeignKey("reference.id", ondelete="CASCADE"), primary_key=True),
)


class Area(Base):
    """One of the six key areas of a comprehensive approach (handbook sections 5.1-5.6)."""

    __tablename__ = "area"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    title: Mapped[str] = mapped_column(String(300))
    motto: Mapped[str] = mapped_column(Text)
    introduction: Mapped[str] = mapped_column(Text)
    benefits: Mapped[list] = mapped_column(JSON, default=list)
    title_en: Mapped[str] = mapped_column(String(300), default="")
    motto_en: Mapped[str] = mapped_column(Text, default="")
    # kb's English rendering of the Latvian edition (corpus/handbook_en_text.toml).
    introduction_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    benefits_en: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    success_factors: Mapped[list[SuccessFactor]] = relationship(
        back_populates="area", order_by="SuccessFactor.position")
    checklists: Mapped[list[Checklist]] = relationship(
        back_populates="area", order_by="Checklist.position")
    references: Mapped[list[Reference]] = relationship(
        secondary=area_reference, back_populates="areas", order_by="Reference.position")


class SuccessFactor(Base):
    """A success factor: a criterion for achieving good practice in one area."""

    __tablename__ = "success_factor"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    name_en: Mapped[str] = mapped_column(String(300), default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")

    area: Mapped[Area] = relationship(back_populates="success_factors")


class Checklist(Base):
    """A self-assessment checklist: of an area, or the general one (area None)."""

    __tablename__ = "checklist"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("area.id"), nullable=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    introduction: Mapped[str] = mapped_column(Text, default="")
    note: Mapped[str] = mapped_column(Text, default="")
    title_en: Mapped[str] = mapped_column(String(300), default="")
    introduction_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    note_en: Mapped[str] = mapped_column(Text, default="", server_default="")

    area: Mapped[Area | None] = relationship(back_populates="checklists")
    items: Mapped[list[ChecklistItem]] = relationship(
        back_populates="checklist", order_by="ChecklistItem.position")


class ChecklistItem(Base):
    """One task of a checklist, in the handbook's order."""

    __tablename__ = "checklist_item"
    id: Mapped[str] = mapped_column(String(140), primary_key=True)
    checklist_id: Mapped[str] = mapped_column(ForeignKey("checklist.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    needs: Mapped[list] = mapped_column(JSON, default=list)     # from corpus/checklist_needs.toml
    keywords: Mapped[list] = mapped_column(JSON, default=list)  # what a practice meeting it has
    activities: Mapped[list] = mapped_column(JSON, default=list)  # activities that would meet it
    text_en: Mapped[str] = mapped_column(Text, default="")       # from corpus/handbook_en.toml
    keywords_en: Mapped[list] = mapped_column(JSON, default=list)
    # organisation types the handbook says it does not apply to (corpus/organisation_types.toml)
    not_applicable_to: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    checklist: Mapped[Checklist] = relationship(back_populates="items")


class Practice(Base):
    """A good-practice example: from the handbook, or added by a curator."""

    __tablename__ = "practice"
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    source: Mapped[str] = mapped_column(String(20), default=HANDBOOK, index=True)
    status: Mapped[str] = mapped_column(String(20), default=PUBLISHED, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    area_id: Mapped[int] = mapped_column(ForeignKey("area.id"), index=True)
    success_factor_id: Mapped[str | None] = mapped_column(
        ForeignKey("success_factor.id"), nullable=True)
    title: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300), default="")
    city: Mapped[str] = mapped_column(String(120), default="")
    text: Mapped[str] = mapped_column(Text)
    urls: Mapped[list] = mapped_column(JSON, default=list)
    title_en: Mapped[str] = mapped_column(String(300), default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    # A handbook practice's description in kb's English rendering (corpus/
    # practices_en_text.toml), written by `kb ingest`; empty for curators' practices.
    text_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    organisation_en: Mapped[str] = mapped_column(String(300), default="", server_default="")
    # The practice template (kb.curation.schema): when, for whom, funded how, what came of it.
    # For the handbook's practices, what its text states (corpus/practice_facts.toml).
    period_start: Mapped[int | None] = mapped_column(Integer, nullable=True)  # a year
    period_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ongoing: Mapped[bool] = mapped_column(default=False, server_default=false())
    target_groups: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    reach: Mapped[int | None] = mapped_column(Integer, nullable=True)  # people reached
    funding_source: Mapped[str] = mapped_column(String(300), default="", server_default="")
    funding_band: Mapped[str] = mapped_column(String(20), default="", server_default="")
    challenge: Mapped[str] = mapped_column(Text, default="", server_default="")
    how_it_works: Mapped[str] = mapped_column(Text, default="", server_default="")
    results: Mapped[str] = mapped_column(Text, default="", server_default="")
    evaluation: Mapped[str] = mapped_column(Text, default="", server_default="")
    transferability: Mapped[str] = mapped_column(Text, default="", server_default="")
    public_contact: Mapped[str] = mapped_column(String(300), default="", server_default="")
    languages: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # A public suggestion's status link: the SHA-256 of its secret token (the token itself is
    # only in the link the submitter was given).
    status_token: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    # Curators' submissions: who sent it, how to reach the source, the review's reason.
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("curator.id"), nullable=True)
    submitted_via: Mapped[str] = mapped_column(String(20), default="")  # "curator" or "public"
    contact: Mapped[str] = mapped_column(String(300), default="")
    source_note: Mapped[str] = mapped_column(String(500), default="")
    review_reason: Mapped[str] = mapped_column(Text, default="")
    quality_overall: Mapped[float | None] = mapped_column(nullable=True)
    good_practice: Mapped[bool] = mapped_column(default=False)
    # Curators' overlay: shown with the practice, never touched by `kb ingest` (on a handbook
    # practice, the one text curators write).
    correction_note: Mapped[str] = mapped_column(Text, default="", server_default="")
    # An admin hid this handbook practice (status HIDDEN): when, who, why. `kb ingest` keeps a
    # hidden practice hidden and publishes every other handbook practice.
    hidden_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    hidden_by: Mapped[int | None] = mapped_column(ForeignKey("curator.id"), nullable=True)
    hidden_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)

    area: Mapped[Area] = relationship()
    success_factor: Mapped[SuccessFactor | None] = relationship()
    countries: Mapped[list[PracticeCountry]] = relationship(
        cascade="all, delete-orphan", order_by="PracticeCountry.position")
    needs: Mapped[list[PracticeNeed]] = relationship(
        cascade="all, delete-orphan", order_by="PracticeNeed.need")
    activities: Mapped[list[PracticeActivity]] = relationship(
        cascade="all, delete-orphan", order_by="PracticeActivity.position")

    @property
    def provenance(self) -> str:
        """Where it comes from: handbook, curator (a curator submitted it), public (a
        suggestion) or import."""
        if self.source == HANDBOOK:
            return "handbook"
        return self.submitted_via if self.submitted_via in PROVENANCES else CURATOR

    @property
    def country_codes(self) -> list[str]:
        return [c.country for c in self.countries]

    @property
    def need_codes(self) -> list[str]:
        return [n.need for n in self.needs]

    @property
    def activity_codes(self) -> list[str]:
        return [a.activity for a in self.activities]


class PracticeCountry(Base):
    """A country (ISO 3166-1 alpha-2) a practice takes place in."""

    __tablename__ = "practice_country"
    practice_id: Mapped[str] = mapped_column(
        ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True)
    country: Mapped[str] = mapped_column(String(2), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class _Term:
    """A term of a controlled vocabulary: its code, its place in the list and its label in
    each language kb reads (Latvian, English, Russian, Ukrainian)."""

    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    label_lv: Mapped[str] = mapped_column(String(120))
    label_en: Mapped[str] = mapped_column(String(120))
    label_ru: Mapped[str] = mapped_column(String(120), default="", server_default="")
    label_uk: Mapped[str] = mapped_column(String(120), default="", server_default="")


class Need(_Term, Base):
    """A need or target group of the controlled vocabulary, with the words people use for it."""

    __tablename__ = "need"
    keywords_lv: Mapped[str] = mapped_column(Text, default="")
    keywords_en: Mapped[str] = mapped_column(Text, default="")
    keywords_ru: Mapped[str] = mapped_column(Text, default="", server_default="")
    keywords_uk: Mapped[str] = mapped_column(Text, default="", server_default="")


class PracticeNeed(Base):
    """A need or target group a practice answers (codes from corpus/needs.toml)."""

    __tablename__ = "practice_need"
    practice_id: Mapped[str] = mapped_column(
        ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True)
    need: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)


class Activity(_Term, Base):
    """An activity of the controlled vocabulary: what a practice does (corpus/activities.toml)."""

    __tablename__ = "activity"
    about: Mapped[str] = mapped_column(Text, default="")
    about_ru: Mapped[str] = mapped_column(Text, default="", server_default="")
    about_uk: Mapped[str] = mapped_column(Text, default="", server_default="")


class PracticeActivity(Base):
    """An activity a practice carries out, most central first."""

    __tablename__ = "practice_activity"
    practice_id: Mapped[str] = mapped_column(
        ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True)
    activity: Mapped[str] = mapped_column(String(40), primary_key=True, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class Reference(Base):
    """A further-reading reference ("Uzziniet vairāk"), linked to every area that lists it."""

    __tablename__ = "reference"
    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    citation: Mapped[str] = mapped_column(Text)
    authors: Mapped[str] = mapped_column(String(400), default="")
    title: Mapped[str] = mapped_column(String(400))
    year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    description: Mapped[str] = mapped_column(Text, default="")
    urls: Mapped[list] = mapped_column(JSON, default=list)
    # kb's English rendering (corpus/handbook_en_text.toml); a title only where the handbook
    # prints it in Latvian.
    title_en: Mapped[str] = mapped_column(String(400), default="", server_default="")
    description_en: Mapped[str] = mapped_column(Text, default="", server_default="")

    areas: Mapped[list[Area]] = relationship(
        secondary=area_reference, back_populates="references", order_by="Area.id")


class QualityDomain(Base):
    """One of the five domains of the quality-assessment criteria (section 7)."""

    __tablename__ = "quality_domain"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="", server_default="")
    guidance: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")  # general checklist item IDs

    questions: Mapped[list[GuidingQuestion]] = relationship(
        back_populates="domain", order_by="GuidingQuestion.position")


class GuidingQuestion(Base):
    """A guiding question of a quality domain."""

    __tablename__ = "guiding_question"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    domain_id: Mapped[int] = mapped_column(ForeignKey("quality_domain.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="", server_default="")
    # what the question is about: practices doing these show how others met it
    activities: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    needs: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    success_factors: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")

    domain: Mapped[QualityDomain] = relationship(back_populates="questions")
    indicators: Mapped[list[QualityIndicator]] = relationship(
        back_populates="question", order_by="QualityIndicator.position")


class QualityIndicator(Base):
    """An indicator under a guiding question."""

    __tablename__ = "quality_indicator"
    id: Mapped[str] = mapped_column(String(20), primary_key=True)
    question_id: Mapped[str] = mapped_column(ForeignKey("guiding_question.id"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text, default="", server_default="")

    question: Mapped[GuidingQuestion] = relationship(back_populates="indicators")


class GlossaryTerm(Base):
    """A term of the glossary (section 8)."""

    __tablename__ = "glossary_term"
    id: Mapped[str] = mapped_column(String(120), primary_key=True)
    position: Mapped[int] = mapped_column(Integer)
    term: Mapped[str] = mapped_column(String(200))
    definition: Mapped[str] = mapped_column(Text)
    term_en: Mapped[str] = mapped_column(String(200), default="", server_default="")  # kb's
    definition_en: Mapped[str] = mapped_column(Text, default="", server_default="")  # English


class Assessment(Base):
    """A self-assessment against the handbook's checklists, reached through its secret token."""

    __tablename__ = "assessment"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    organisation_type: Mapped[str] = mapped_column(String(30), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    # Rounds over time: a follow-up round links to the round before it.
    previous_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="SET NULL"), nullable=True, index=True)
    round: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # A read-only link to the summary, for partners and refugees; revoking clears it.
    share_token: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    # A team member's answers: the team round (the owner's assessment) they belong to.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), nullable=True, index=True)
    member_name: Mapped[str] = mapped_column(String(100), default="", server_default="")

    answers: Mapped[list[AssessmentAnswer]] = relationship(cascade="all, delete-orphan")
    notes: Mapped[list[AssessmentNote]] = relationship(cascade="all, delete-orphan")


class AssessmentAnswer(Base):
    """Whether a checklist item is met ("met", "unmet" or "na": not applicable)."""

    __tablename__ = "assessment_answer"
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    item_id: Mapped[str] = mapped_column(String(140), primary_key=True)
    status: Mapped[str] = mapped_column(String(10))


class AssessmentNote(Base):
    """The notes of one page of an assessment (a key area, or the general checklist)."""

    __tablename__ = "assessment_note"
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    page: Mapped[str] = mapped_column(String(20), primary_key=True)
    text: Mapped[str] = mapped_column(Text, default="")


class AssessmentChange(Base):
    """What one save changed in an assessment (its version after the save): so that a stale
    write (PATCH with an older version) can be told what changed since."""

    __tablename__ = "assessment_change"
    assessment_id: Mapped[int] = mapped_column(
        ForeignKey("assessment.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    answers: Mapped[dict] = mapped_column(JSON, default=dict)  # item -> [before, after]
    notes: Mapped[list] = mapped_column(JSON, default=list)    # pages whose notes changed
    fields: Mapped[dict] = mapped_column(JSON, default=dict)   # organisation... -> [before, after]


class QualityCheck(Base):
    """A practitioner's own scoring of a practice on the quality criteria (the assessment
    table), reached through its secret token; linked to the practice it was suggested as."""

    __tablename__ = "quality_check"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    organisation: Mapped[str] = mapped_column(String(200), default="")
    scores: Mapped[dict] = mapped_column(JSON, default=dict)  # indicator id -> met/partly/...
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)
    practice_id: Mapped[str | None] = mapped_column(
        ForeignKey("practice.id", ondelete="SET NULL"), nullable=True, index=True)


class Curator(Base):
    """A curator (or admin) who submits, reviews, scores and publishes practices."""

    __tablename__ = "curator"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    is_admin: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Part of every session's identity: logging out or deactivating raises it, and every
    # session made before -- a copied cookie too -- stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    # What Flask-Login asks of a user object.
    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        return f"{self.id}.{self.session_version or 0}"


class PracticeChange(Base):
    """One change to a practice: who, when, what, and each field before and after."""

    __tablename__ = "practice_change"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[str] = mapped_column(String(160), index=True)
    curator_id: Mapped[int | None] = mapped_column(ForeignKey("curator.id"), nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # name -> [before, after]
    reason: Mapped[str] = mapped_column(Text, default="")

    curator: Mapped[Curator | None] = relationship()


class PracticeRevision(Base):
    """A curator's change to a published practice, waiting for another curator's review.

    At most one a practice (the practice is its key). Until it is approved the practice -- its
    page, the API, search -- stays as published; approving applies ``proposed`` and deletes the
    row, rejecting deletes it. The change log (PracticeChange) keeps the proposal and the
    decision.
    """

    __tablename__ = "practice_revision"
    practice_id: Mapped[str] = mapped_column(
        ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True)
    proposed_by: Mapped[int] = mapped_column(ForeignKey("curator.id"))
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    proposed: Mapped[dict] = mapped_column(JSON, default=dict)  # field -> the proposed value
    base: Mapped[dict] = mapped_column(JSON, default=dict)      # field -> its value when proposed


class QualityScore(Base):
    """A curator's score of a practice on one quality indicator (section 7)."""

    __tablename__ = "quality_score"
    practice_id: Mapped[str] = mapped_column(
        ForeignKey("practice.id", ondelete="CASCADE"), primary_key=True)
    indicator_id: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str] = mapped_column(String(10))  # met, partly, not_met, unknown
    curator_id: Mapped[int | None] = mapped_column(ForeignKey("curator.id"), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow)


class RateCounter(Base):
    """Counts events per key in a time window: login failures, public suggestions."""

    __tablename__ = "rate_counter"
    key: Mapped[str] = mapped_column(String(300), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    count: Mapped[int] = mapped_column(Integer, default=0)


class SearchChange(Base):
    """One change to the search index, written in the transaction that changed the record.

    The search index is derived from the database: `kb index` builds it from the records, and
    every later publish, unpublish, edit or import adds a row here, which every server process
    applies within a second. ``document`` is the search document (None: the key was removed),
    ``vectors`` its passages' embeddings by ``embedder`` (float32, ``dim`` wide), so other
    processes need not embed it again. Rows are numbered in commit order (writers take a lock).
    """

    __tablename__ = "search_change"
    # SQLite would reuse the numbers of deleted rows without AUTOINCREMENT.
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(200), index=True)
    document: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    embedder: Mapped[str] = mapped_column(String(200), default="")
    dim: Mapped[int] = mapped_column(Integer, default=0)
    vectors: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# What showing, exporting or indexing a practice needs, loaded with it (one query per relation
# rather than one per practice): `select(Practice).options(*PRACTICE_LOADS)`.
PRACTICE_LOADS = (selectinload(Practice.countries), selectinload(Practice.needs),
                  selectinload(Practice.activities), selectinload(Practice.success_factor))
