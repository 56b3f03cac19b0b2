"""Assessing in a team and with partners (handbook: "komandā un ar partneriem un
ieinteresētajām personām, tostarp bēgļiem").

- A read-only share link shows a round's summary to partners and refugees, without any link
  that edits it; the owner revokes it at will (the link then opens nothing).
- A team round: the owner invites members, each answers on a link of their own (an assessment
  of its own, tied to the owner's), and the owner's summary counts per item how many said met,
  not met and not applicable -- the owner's answers count as one voice -- and flags the items
  where the answers differ as discussion points.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.assessment import assess
from kb.core.messages import N_
from kb.assessment.assess import AssessmentError, answers_of
from kb.core.models import Assessment, AssessmentAnswer

NAME_LIMIT = 100
MEMBER_LIMIT = 50


def share(session: Session, assessment: Assessment) -> str:
    """The round's read-only share token (a new one if it has none)."""
    if assessment.share_token is None:
        assessment.share_token = assess.new_token()
        session.flush()
    return assessment.share_token


def revoke(session: Session, assessment: Assessment) -> None:
    assessment.share_token = None
    session.flush()


def by_share_token(session: Session, token: str) -> Assessment | None:
    if not token or len(token) > 64:
        return None
    return session.scalar(select(Assessment).where(Assessment.share_token == token).options(
        selectinload(Assessment.answers), selectinload(Assessment.notes)))


def members(session: Session, owner: Assessment) -> list[Assessment]:
    return list(session.scalars(select(Assessment).where(Assessment.team_id == owner.id)
                                .order_by(Assessment.id).options(selectinload(Assessment.answers))))


def invite(session: Session, owner: Assessment, name: str) -> Assessment:
    """A member of ``owner``'s team round: a link of their own to answer on. Items the
    handbook says do not apply to the organisation's type start as the owner's did."""
    name = name.strip()
    if not name:
        raise AssessmentError(N_("Give the member's name (or a role, such as \"partner NGO\")."),
                              "name")
    if len(name) > NAME_LIMIT:
        raise AssessmentError(N_("A name may have at most %(most)d characters."), "name",
                              most=NAME_LIMIT)
    if owner.team_id is not None:
        raise AssessmentError(N_("A team member cannot invite others; the round's owner does."),
                              "token")
    if len(members(session, owner)) >= MEMBER_LIMIT:
        raise AssessmentError(N_("A team round has at most %(most)d members."), "name",
                              most=MEMBER_LIMIT)
    member = Assessment(token=assess.new_token(), organisation=owner.organisation,
                        organisation_type=owner.organisation_type, team_id=owner.id,
                        member_name=name, round=owner.round)
    member.answers = [AssessmentAnswer(item_id=i, status="na")
                      for i in assess.not_applicable_for(session, owner.organisation_type)]
    session.add(member)
    session.flush()
    return member


@dataclass
class ItemTally:
    met: int
    unmet: int
    na: int
    unanswered: int

    @property
    def disagree(self) -> bool:
        """The voices that answered do not all say the same."""
        return sum(1 for n in (self.met, self.unmet, self.na) if n) > 1


def tally(session: Session, owner: Assessment, item_ids: list[str]) -> dict[str, ItemTally]:
    """Per item, how many of the owner and the members said met, not met, not applicable,
    or nothing yet."""
    voices = [answers_of(owner), *(answers_of(m) for m in members(session, owner))]
    result = {}
    for item_id in item_ids:
        counts = Counter(v.get(item_id, "unanswered") for v in voices)
        result[item_id] = ItemTally(counts["met"], counts["unmet"], counts["na"],
                                    counts["unanswered"])
    return result
