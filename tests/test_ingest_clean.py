"""Each PDF-repair rule on small strings."""
from __future__ import annotations

import pytest

from kb.ingest.blocks import HEADING, TEXT, URL, Block, join_continuations, to_blocks
from kb.ingest.clean import (Line, clean_lines, dehyphenate, is_finished, is_heading,
                             is_letter_spaced, is_lower_start, is_page_number, join_split_letters,
                             normalize_url, segment, unspace)

VOCAB = frozenset({"darbam", "ar", "bēgļiem", "nepārtraukts", "atbalsts", "sniedzējiem",
                   "pakalpojumu", "vietējām", "drošība", "un", "palīdzība", "starpkultūru"})


@pytest.mark.parametrize("line, spaced", [
    ("D R O Š Ī BA  U N  PA L Ī DZ Ī BA", True),
    ("  KO N T R O L S A R A K S T S  PA K A L P O J U M U", True),
    ("VEIKSMES FAKTORI:  LABAS PRAKSES ĪSTENOŠANAS KRITĒRIJI", False),
    ("Bulgārijā Humans in the Loop (HITL) ir", False),
    ("A B", False),
])
def test_letter_spaced_detection(line, spaced):
    assert is_letter_spaced(line) is spaced


@pytest.mark.parametrize("line, expected", [
    ("D R O Š Ī BA  U N  PA L Ī DZ Ī BA", "DROŠĪBA UN PALĪDZĪBA"),
    ("DA R B A M A R  B Ē G Ļ I E M", "DARBAM AR BĒGĻIEM"),  # words glued by single spaces
    ("N E PĀ R T R AU K T S AT BA L S T S", "NEPĀRTRAUKTS ATBALSTS"),
    ("6 . V I S P Ā R Ē J S", "6. VISPĀRĒJS"),
])
def test_unspace(line, expected):
    assert unspace(line, VOCAB) == expected


def test_segment_keeps_unknown_words_whole():
    assert segment("PAKALPOJUMUVIETĒJĀM", VOCAB) == ["PAKALPOJUMU", "VIETĒJĀM"]
    assert segment("XYZQ", VOCAB) == ["XYZQ"]
    assert segment("ATBALSTS", VOCAB) == ["ATBALSTS"]


def test_join_split_letters():
    assert join_split_letters("PAKALPOJUMU S NIEDZĒJIEM", VOCAB) == "PAKALPOJUMU SNIEDZĒJIEM"
    assert join_split_letters("UN A B", VOCAB) == "UN A B"


def test_dehyphenate_joins_latvian_and_keeps_real_compounds():
    raw = "the long-term integration; starpkul- tūru"
    assert dehyphenate("starpkul", "tūru", raw, VOCAB) == "starpkultūru"
    assert dehyphenate("long", "term", raw, VOCAB) == "long-term"


def test_hyphen_across_blank_line_is_joined():
    lines = clean_lines("Šajā rokasgrāmatā sniegts īss starpkul- \n\ntūru integrācijas izklāsts.\n")
    assert [line.text for line in lines if line.text] == [
        "Šajā rokasgrāmatā sniegts īss starpkultūru integrācijas izklāsts."]


def test_safelinks_unwrapped_and_spaces_escaped():
    wrapped = ("https://eur02.safelinks.protection.outlook.com/?url=https%3A%2F%2Fvaltioneuvosto.fi"
               "%2Fen%2F-%2F1410853%2Fnew-board&data=04%7C01&reserved=0")
    assert normalize_url(wrapped) == "https://valtioneuvosto.fi/en/-/1410853/new-board"
    assert normalize_url("http://x.eu/a b.pdf ") == "http://x.eu/a%20b.pdf"


def test_repeated_urls_collapse_and_page_numbers_go():
    raw = "Teksts.\nhttps://a.eu/x\nhttps://a.eu/x\nhttps://a.eu/x\nhttps://b.eu/\n\n\n21\n\n 22 \nBeigas.\n"
    texts = [line.text for line in clean_lines(raw) if line.text]
    assert texts == ["Teksts.", "https://a.eu/x", "https://b.eu/", "Beigas."]


@pytest.mark.parametrize("line, number", [("21", True), (" 5 ", True), ("2016. gadā", False),
                                          ("1500 topošie", False)])
def test_page_number(line, number):
    assert is_page_number(line) is number


def test_footnote_mark_after_sentence_is_removed():
    texts = [line.text for line in clean_lines("lai izveidotu ilgtermiņa pakalpojumus.31\n") if line.text]
    assert texts == ["lai izveidotu ilgtermiņa pakalpojumus."]


@pytest.mark.parametrize("text, finished", [
    ("dzīvei.", True), ("var sūdzēties", False), ('mācību paketes"', False),
    ('"kā mājās".', True), ("(piemēram, radio);", True), ("reizi ceturksnī", False),
])
def test_is_finished(text, finished):
    assert is_finished(text) is finished


def test_is_lower_start_and_heading():
    assert is_lower_start("par personīgām problēmām")
    assert is_lower_start("2018.–2020. gadam")
    assert not is_lower_start("Somijā")
    assert is_heading("PIELĀGOTS ATBALSTS, KAS")
    assert not is_heading("HITL aptaujā atbalsta")


def test_blocks_rejoin_a_sentence_across_a_url_list():
    blocks = join_continuations([
        Block(TEXT, "piedāvā tām atbalstu saskaņā ar apgabala"),
        Block(URL, "https://x.eu/"),
        Block(TEXT, "kompetencēm līdz pat 6 mēnešiem."),
        Block(TEXT, "bēgļu spēja;"),
        Block(TEXT, "samazināta neaizsargātība."),
    ])
    assert [b.text for b in blocks if b.kind == TEXT] == [
        "piedāvā tām atbalstu saskaņā ar apgabala kompetencēm līdz pat 6 mēnešiem.",
        "bēgļu spēja;", "samazināta neaizsargātība."]


def test_blocks_never_join_across_a_heading():
    blocks = join_continuations([Block(TEXT, "nodrošinot telpu veselības"), Block(HEADING, "X Y Z W"),
                                 Block(TEXT, "aprūpes, izglītības")])
    assert len(blocks) == 3


def test_multi_line_heading_is_one_block_and_page_start_breaks_paragraphs():
    lines = [Line("PIELĀGOTS ATBALSTS, KAS"), Line("VEIDO CEĻU"), Line("Somijā viens."),
             Line("Otrs teikums.", page_start=True)]
    assert [(b.kind, b.text) for b in to_blocks(lines)] == [
        (HEADING, "PIELĀGOTS ATBALSTS, KAS VEIDO CEĻU"), (TEXT, "Somijā viens."),
        (TEXT, "Otrs teikums.")]
