"""Recommend practices for the checklist items an organisation does not yet meet.

For each unmet item the hybrid search ranks practices twice: by the item's Latvian text and
keywords, and by its English text and keywords (corpus/handbook_en.toml) against the practices'
English summaries; each ranking's scores are scaled by its best one and added. Priors then
raise the practices that carry out the activities the item calls for (corpus/activities.toml,
corpus/checklist_needs.toml), that share its needs, and -- weakly -- that stand in the item's
key area and under the success factor closest to it. Last, the item's best matches feed back:
a practice doing the same kinds of work as they do rises (FEEDBACK). Practices are merged
across items: a practice answering several unmet items collects their scores, and says which
items it answers (`because`) and why it matched.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from kb.core.models import ChecklistItem, Practice
from kb.core.vocabulary import fold
from kb.search import DocKey, Filters, SearchReader
from kb.search.analysis import FOLDED_STOP_WORDS
from kb.search.analysis import STOP_WORDS as ENGLISH_STOP_WORDS  # Whoosh's, through kb.search
from kb.search.snippets import matched_words

# Priors multiply a practice's search score. Measured with `kb eval` on corpus/eval/recommend.toml:
# the needs and activity priors raise precision@5; strong area and success-factor priors lower
# it (the practices that show how to meet a task often stand in another key area), so those two
# only break near-ties.
AREA_PRIOR = 1.05    # a practice of the item's own key area
FACTOR_PRIOR = 1.05  # ... under the success factor closest to the item
NEED_PRIOR = 1.0     # ... sharing the item's needs (scaled by the share of needs in common)
# ... carrying out the activities that would meet the item: the item's first (most central)
# activity counts fully, the others half, by the share of them the practice carries out.
ACTIVITY_PRIOR = 1.0
ENGLISH_WEIGHT = 0.5  # the English ranking's weight beside the Latvian one (1)
NOTES_WEIGHT = 1.0    # a ranking on the notes the user wrote for the item's page
# In a summary, a practice already shown for other items counts this much less for each one
# (one practice was offered for 4 of 13 unmet items): the summary shows more ways to do it.
REPEAT_DISCOUNT = 0.8
# Feedback from the item's best matches: a practice doing the same kinds of work (activities)
# as the item's FEEDBACK best-scored practices gains up to FEEDBACK_WEIGHT (the score-weighted
# mean Jaccard overlap of its activities with theirs). The best matches show what meeting the
# item takes better than the item's short list of activities alone. Measured with `kb eval`:
# precision@5 0.626 -> 0.644, 6 items up and 1 down (FEEDBACK 2-5 with FEEDBACK_WEIGHT 0.3-0.75
# all gain, 0.633-0.644); the same feedback by needs, success factor, area or embeddings does not.
FEEDBACK = 3
FEEDBACK_WEIGHT = 0.5
PER_ITEM = 10         # practices considered per item
CACHE_SIZE = 2048     # items' rankings kept, per indexed content and item


# Words a reason never shows: they say nothing about why a practice fits ("piemēram", "pret",
# "kuri", "which"). Wider than search's stop words, which also weigh words for ranking.
REASON_STOP_WORDS = frozenset(fold(w) for w in """
a ap ar arī bet bez bija bijis būs būt būtu caur cik citi citu cits daudz dažādi dažādu es esam
gan ir ja jeb jo jums jūs ka kā kad kāda kādi kādu kam kas katra katrs kļūst ko kopā kur kura
kurā kuras kurās kuri kurš kuru lai līdz mēs mums ne nav nevis no pa par pat pēc pie piemēram
pret sava savā savas savu šā šajā šeit šī šie šis šīs šo starp tā tad tai tam tas tās te tie
tiek tiem tika tikai tikt to tomēr tos tur turklāt tāpat tāds tādi uz vai var varētu vēl
viņa viņi viņiem viņu viss visi visu visas virs zem ļoti vairāk
""".split()) | FOLDED_STOP_WORDS | frozenset(ENGLISH_STOP_WORDS) | frozenset(
    "also etc e.g such well like help people".split())


def reason_words(text: str, query: str) -> list[str]:
    """Words of ``text`` matching the query's, without function words and two-letter ones."""
    return [w for w in matched_words(text, query, limit=8)
            if len(w) > 2 and fold(w) not in REASON_STOP_WORDS][:4]


@dataclass
class Reason:
    item: str
    words: list[str]          # shared with the practice's Latvian text
    same_area: bool
    same_factor: bool
    needs: list[str] = field(default_factory=list)
    activities: list[str] = field(default_factory=list)
    words_en: list[str] = field(default_factory=list)  # shared with its English summary


@dataclass
class Recommendation:
    id: str
    title: str
    title_en: str
    countries: list[str]
    area: int
    score: float
    because: list[str] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    share: float = 1.0  # its score against the best practice's for the item (1: the best)


class UnknownItems(ValueError):
    def __init__(self, ids: list[str]):
        super().__init__(f"unknown checklist item IDs: {', '.join(ids)}")
        self.ids = ids


def item_key(item_id: str) -> DocKey:
    return DocKey("checklist_item", item_id)


def closest_factor(index: SearchReader, item_id: str, area: int | None) -> str | None:
    """The success factor of ``area`` whose embedding is closest to the item's."""
    best = index.similar(item_key(item_id), 1, Filters(types=("success_factor",), area=area))
    return best[0].record_id if best else None


def latvian_query(item: ChecklistItem) -> str:
    return " ".join([item.text, *item.keywords])


def search_score(index: SearchReader, item: ChecklistItem, notes: str = "") -> dict[str, float]:
    """Practice key -> the item's Latvian and English rankings' scores, each scaled by its best
    (and a ranking on the user's ``notes`` for the item's page, when there are some)."""
    queries = [(latvian_query(item), 1.0, item_key(item.id))]
    if item.text_en:
        queries.append((" ".join([item.text_en, *item.keywords_en]), ENGLISH_WEIGHT,
                        item_key(item.id)))
    if notes.strip():  # the user's own words: embedded as they are, not as the item
        queries.append((notes.strip()[:1000], NOTES_WEIGHT, None))
    scores: dict[str, float] = {}
    for query, weight, like in queries:
        # The dense retriever reads the item's stored embedding (its Latvian and English
        # passages): five times faster than embedding the long queries, precision@5 0.626
        # against 0.630 on the evaluation set.
        ranked = index.rank(query, Filters(types=("practice",)), like=like)
        best = ranked[0][1] if ranked else 0.0
        for key, score, _found in ranked:
            scores[key] = scores.get(key, 0.0) + weight * score / best
    return scores


def activity_match(wanted: list[str], carried_out: tuple[str, ...]) -> float:
    """0..1.5: the item's first activity counts 1, the share of its others 0.5."""
    if not wanted:
        return 0.0
    rest = wanted[1:]
    return (float(wanted[0] in carried_out)
            + (0.5 * sum(a in carried_out for a in rest) / len(rest) if rest else 0.0))


def rank_for_item(index: SearchReader, item: ChecklistItem,
                  notes: str = "") -> list[tuple[str, float, Reason]]:
    """Practices for one item, best first, with the reason each matched.

    An item's ranking costs two searches (~60 ms) and depends only on the item and what is
    indexed, so it is kept until that changes (`content`, which copies of one index share): a
    summary shown again is instant.
    """
    key = (index.content(), item.id, item.text, tuple(item.keywords), item.text_en,
           tuple(item.keywords_en), tuple(item.needs), tuple(item.activities),
           AREA_PRIOR, FACTOR_PRIOR, NEED_PRIOR, ACTIVITY_PRIOR, ENGLISH_WEIGHT, PER_ITEM,
           FEEDBACK, FEEDBACK_WEIGHT,
           notes.strip()[:1000], NOTES_WEIGHT)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    ranking = _rank_for_item(index, item, notes)
    with _CACHE_LOCK:
        _CACHE[key] = ranking
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return ranking


_CACHE: OrderedDict[tuple, list] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def _rank_for_item(index: SearchReader, item: ChecklistItem,
                   notes: str = "") -> list[tuple[str, float, Reason]]:
    area = item.checklist.area_id
    factor = closest_factor(index, item.id, area)
    query = latvian_query(item)
    english = " ".join([item.text_en, *item.keywords_en])
    needs = set(item.needs)
    scored = []
    for key, score in search_score(index, item, notes).items():
        doc = index.get(key)
        if doc is None:
            continue
        same_area = area is not None and area in doc.areas
        same_factor = factor is not None and doc.factor == factor
        score *= (AREA_PRIOR if same_area else 1.0) * (FACTOR_PRIOR if same_factor else 1.0)
        score *= 1.0 + NEED_PRIOR * len(needs & set(doc.needs)) / len(needs) if needs else 1.0
        score *= 1.0 + ACTIVITY_PRIOR * activity_match(item.activities, doc.activities)
        scored.append((doc, score, same_area, same_factor))
    scored.sort(key=lambda row: (-row[1], row[0].record_id))
    scored = with_feedback(scored)
    # The reasons (matched words need the practice's text stemmed) only for the ones kept.
    return [(doc.record_id, score,
             Reason(item.id, reason_words(doc.text, query), same_area, same_factor,
                    sorted(needs & set(doc.needs)),
                    [a for a in item.activities if a in doc.activities],
                    reason_words(doc.english, english) if item.text_en else []))
            for doc, score, same_area, same_factor in scored[:PER_ITEM]]


def overlap(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    """Jaccard overlap of two sets of activity codes (0 when both are empty)."""
    union = set(a) | set(b)
    return len(set(a) & set(b)) / len(union) if union else 0.0


def with_feedback(scored: list) -> list:
    """``scored`` (document, score, ...) rows, best first, re-scored by FEEDBACK: each gains by
    how much its activities overlap those of the FEEDBACK best rows (not counting itself)."""
    if not FEEDBACK_WEIGHT or not scored:
        return scored
    top = scored[:FEEDBACK]
    rows = []
    for doc, score, *rest in scored:
        others = [(d, s) for d, s, *_ in top if d.record_id != doc.record_id]
        weight = sum(s for _, s in others)
        shared = (sum(s * overlap(doc.activities, d.activities) for d, s in others) / weight
                  if weight else 0.0)
        rows.append((doc, score * (1.0 + FEEDBACK_WEIGHT * shared), *rest))
    return sorted(rows, key=lambda row: (-row[1], row[0].record_id))


def _items(session: Session, item_ids: list[str]) -> dict[str, ChecklistItem]:
    """The checklist items ``item_ids`` name, with their checklists; UnknownItems naming any
    that does not exist."""
    items = {i.id: i for i in session.scalars(
        select(ChecklistItem).where(ChecklistItem.id.in_(item_ids))
        .options(selectinload(ChecklistItem.checklist)))}
    missing = [i for i in dict.fromkeys(item_ids) if i not in items]
    if missing:
        raise UnknownItems(missing)
    return items


def _practices(session: Session, ids) -> dict[str, Practice]:
    return {p.id: p for p in session.scalars(
        select(Practice).where(Practice.id.in_(ids)).options(selectinload(Practice.countries)))}


def _recommendation(practice: Practice, score: float, reasons: list[Reason],
                    share: float = 1.0) -> Recommendation:
    return Recommendation(id=practice.id, title=practice.title, title_en=practice.title_en,
                          countries=practice.country_codes, area=practice.area_id,
                          score=round(score, 6), because=[r.item for r in reasons],
                          reasons=reasons, share=round(share, 3))


def recommend(index: SearchReader, session: Session, unmet: list[str],
              limit: int = 10) -> list[Recommendation]:
    """Practices for the ``unmet`` checklist items, deduplicated, best first."""
    items = _items(session, unmet)
    totals: dict[str, float] = {}
    reasons: dict[str, list[Reason]] = {}
    for item_id in dict.fromkeys(unmet):
        for practice_id, score, reason in rank_for_item(index, items[item_id]):
            totals[practice_id] = totals.get(practice_id, 0.0) + score
            reasons.setdefault(practice_id, []).append(reason)
    best = sorted(totals, key=lambda p: (-totals[p], p))[:limit]
    practices = _practices(session, best)
    return [_recommendation(practices[p], totals[p], reasons[p]) for p in best if p in practices]


def per_item(index: SearchReader, session: Session, item_ids: list[str], top: int = 3,
             notes: dict[str, str] | None = None) -> dict[str, list[Recommendation]]:
    """The ``top`` practices for each item (the assessment summary's view), in the items'
    order: ``notes`` (item -> the notes of its page) add to an item's query, and a practice
    already shown for earlier items counts REPEAT_DISCOUNT less for each. Each practice says
    how strong its match is: its score against the item's best (before the discount)."""
    notes = notes or {}
    items = _items(session, item_ids)
    shown: dict[str, int] = {}
    chosen: dict[str, list[tuple[str, float, float, Reason]]] = {}
    for item_id in dict.fromkeys(item_ids):
        ranking = rank_for_item(index, items[item_id], notes.get(item_id, ""))
        best = ranking[0][1] if ranking else 1.0
        discounted = sorted(((p, s * REPEAT_DISCOUNT ** shown.get(p, 0), s, r)
                             for p, s, r in ranking), key=lambda row: (-row[1], row[0]))[:top]
        for practice_id, *_rest in discounted:
            shown[practice_id] = shown.get(practice_id, 0) + 1
        chosen[item_id] = [(p, d, s / best if best else 0.0, r) for p, d, s, r in discounted]
    practices = _practices(session, {p for rows in chosen.values() for p, *_ in rows})
    return {item_id: [_recommendation(practices[p], d, [r], share)
                      for p, d, share, r in rows if p in practices]
            for item_id, rows in chosen.items()}
