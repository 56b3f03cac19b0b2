"""Parse the quality-assessment criteria (section 7): domains -> guiding questions -> indicators.

Each guiding question is followed by one bullet per indicator and then the indicators' texts
(the PDF separates the bullets from their text); the bullet count checks the parse.
"""
from __future__ import annotations

import re

from kb.ingest.clean import Line, is_lower_start
from kb.ingest.records import (GuidingQuestionRecord, QualityDomainRecord,
                               QualityIndicatorRecord, sentence_case)
from kb.ingest.sections import HandbookFormatError

DOMAIN = re.compile(r"^(\d)\.\s*JOMA:\s*(.+)$")
QUESTION_START = ("Vai ", "Cik ")
CLOSING_NOTE = "Šis pašnovērtējuma rīks"


class _Question:
    def __init__(self, text: str):
        self.text = text
        self.bullets = 0
        self.indicators: list[str] = []


def parse_criteria(lines: list[Line]) -> list[QualityDomainRecord]:
    """Return the five quality domains with their questions and indicators."""
    domains: list[tuple[int, str, list[_Question]]] = []
    for line in lines:
        text = line.text.strip()
        if not text or text == "Rādītāji":
            continue
        if text.startswith(CLOSING_NOTE):
            break
        match = DOMAIN.match(text)
        if match:
            domains.append((int(match.group(1)), sentence_case(match.group(2)), []))
            continue
        if not domains:
            continue  # the section's introduction
        questions = domains[-1][2]
        _feed(questions, text)
    return [_record(number, name, questions) for number, name, questions in domains]


def _feed(questions: list[_Question], text: str) -> None:
    last = questions[-1] if questions else None
    if text.startswith("•"):
        last.bullets += 1
        if text[1:].strip():
            last.indicators.append(text[1:].strip())
    elif text.startswith(QUESTION_START) and (last is None or last.bullets):
        questions.append(_Question(text))
    elif not last.bullets:
        last.text += " " + text  # a question printed over two lines, or its parenthesis
    elif is_lower_start(text) and last.indicators:
        last.indicators[-1] += " " + text
    else:
        last.indicators.append(text)


def _record(number: int, name: str, questions: list[_Question]) -> QualityDomainRecord:
    records = []
    for q_pos, question in enumerate(questions, 1):
        if question.bullets != len(question.indicators):
            raise HandbookFormatError(
                f"quality domain {number}, question {q_pos}: {question.bullets} bullets but "
                f"{len(question.indicators)} indicators read")
        q_id = f"{number}.{q_pos}"
        records.append(GuidingQuestionRecord(
            id=q_id, position=q_pos, text=re.sub(r"\s+", " ", question.text),
            indicators=[QualityIndicatorRecord(id=f"{q_id}.{i}", position=i,
                                               text=re.sub(r"\s+", " ", t).strip())
                        for i, t in enumerate(question.indicators, 1)]))
    if not records:
        raise HandbookFormatError(f"quality domain {number} has no guiding questions")
    return QualityDomainRecord(number=number, name=name, questions=records)
