"""Golden tests on the real handbook: counts, specific practices field by field, no noise."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from kb.ingest.areas import parse_area
from kb.ingest.blocks import TEXT
from kb.ingest.clean import clean_lines, is_letter_spaced
from kb.ingest.sections import split_sections

WORD = re.compile(r"\w+")


def test_counts_per_record_type(handbook):
    assert len(handbook.areas) == 6
    assert sum(len(a.success_factors) for a in handbook.areas) == 30
    assert len(handbook.practices) == 62
    assert len(handbook.references) == 36
    assert len(handbook.quality_domains) == 5
    assert sum(len(d.questions) for d in handbook.quality_domains) == 12
    assert sum(len(q.indicators) for d in handbook.quality_domains for q in d.questions) == 34
    assert len(handbook.glossary) == 19
    assert len(handbook.general_checklist.items) == 13


def test_counts_per_area(handbook):
    assert [len(a.success_factors) for a in handbook.areas] == [5, 4, 5, 5, 7, 4]
    assert [len(a.benefits) for a in handbook.areas] == [5, 8, 6, 9, 7, 5]
    per_area = Counter(p.area for p in handbook.practices)
    assert [per_area[n] for n in range(1, 7)] == [9, 12, 7, 12, 8, 14]
    items = {c.id: len(c.items) for c in handbook.checklists}
    assert items == {"area-1": 10, "area-2": 15, "area-3": 17, "area-4": 14, "area-4-2": 5,
                     "area-5": 9, "area-6": 10, "general": 13}
    refs = Counter(a for r in handbook.references for a in r.areas)
    assert [refs[n] for n in range(1, 7)] == [5, 10, 7, 6, 6, 8]


def test_area_fields(handbook):
    area = handbook.areas[4]
    assert area.title == "Iesaistiet vietējās kopienas un atbalstiet brīvprātīgo darbu"
    assert area.motto == ("Mobilizējiet uzņemošās valsts sabiedrības resursus un veiciniet "
                          "uzticēšanos un pozitīvu identifikāciju")
    assert area.introduction.startswith("Vietējās sabiedrības iesaiste ir svarīgs")
    assert area.benefits[-1] == ("pamanāmība un sasniedzamība, pievēršot lielāku uzmanību "
                                 "saziņai nekā daudzās esošajās integrācijas programmās")
    factor = area.success_factors[0]
    assert (factor.id, factor.name) == ("5-individualizets-un-nepartraukts-atbalsts",
                                        "Individualizēts un nepārtraukts atbalsts")
    assert factor.description.startswith("veiciniet ilgtermiņa sociālo iekļaušanu")


def test_checklists_keep_titles_introductions_and_the_ngo_footnote(handbook):
    checklists = {c.id: c for c in handbook.checklists}
    area4, special = checklists["area-4"], checklists["area-4-2"]
    assert area4.title == "Kontrolsaraksts pakalpojumu sniedzējiem darbam ar bēgļiem"
    assert special.title.startswith("Īpašs kontrolsaraksts")
    assert special.introduction.startswith("Vietējām pašvaldībām ir izšķiroša nozīme")
    assert special.items[0].text.startswith("Veiciniet tādu migrantu vai bēgļu izcelsmes")
    assert checklists["area-6"].title == ("Kontrolsaraksts saziņai un koordinēšanai ar citiem "
                                          "pakalpojumu sniedzējiem un sistēmas nepilnību novēršanai")
    assert "nav attiecināmi uz NVO" in checklists["area-3"].note
    # Items printed before the checklist heading still belong to the area's checklist, in order.
    assert checklists["area-2"].items[0].text.startswith("Konsultējieties ar dažādu grupu")
    assert checklists["area-2"].items[-1].text.startswith("Pieņemiet līdztiesības plānus")
    assert [i.id for i in checklists["general"].items][:2] == ["general-01", "general-02"]


GOLDEN = [
    # id, area, success factor, countries, city, organisation, start, end, urls
    ("humans-in-the-loop", 1, "1-pastavigi-izvertejiet-vajadzibas", ["BG"], "",
     "Humans in the Loop (HITL)", "Bulgārijā Humans in the Loop (HITL) ir godalgots",
     "ar atbildīgo personu vai departamentu.", ["https://humansintheloop.org/"]),
    ("lublinas-gimenes-palidzibas-centri", 1, "1-pielagots-atbalsts-kas-veicina-ilgtermina-ieklausanu",
     ["PL"], "Lublin", "Ļubļinas pašvaldības ģimenes atbalsta centrs", "Ģimenes palīdzības centri Ļubļinā",
     "patstāvīgai dzīvei vietējā kopienā.", []),
    ("karditsas-attistibas-agenturas-anka-fokusgrupas", 1, "1-pastavigi-izvertejiet-vajadzibas",
     ["GR"], "Karditsa", "Karditsas attīstības aģentūra (ANKA)", "Karditsas attīstības aģentūra (ANKA)",
     "un uzklausīt viņu viedokli.", []),
    ("hemenlinnas-kursi-imigrantiem-arpus-formalas-izglitibas", 2, "2-pieejamiba", ["FI"],
     "Hämeenlinna", "Hemēnlinnas pilsēta", "Hemēnlinnā, Somijā piedāvā kursus",
     "lai mācīšana nekļūtu pārāk nogurdinoša un nomācoša.", []),
    ("mana-iespeja-polija", 2, "2-drosiba-un-palidziba", ["PL"], "", "Ocalenie fonds",
     "“Mana iespēja Polijā” ir Ocalenie fonda", "individuālās tikšanās ar psihologu un atbalsta grupām.",
     ["https://ocalenie.org.pl/projekty/moja-szansa-w-polsce"]),
    ("empowervan", 2, "2-drosiba-un-palidziba", ["DE"], "Hamburg",
     "Hamburgas Darba, sociālo un ģimenes lietu un integrācijas ministrija",
     "Vācijā, Hamburgas Darba, sociālo", "ja sieviete ir cietusi no vardarbības.", []),
    ("ravennas-starpkulturu-imigracijas-tikls", 4, "4-parstaviba", ["IT"], "Ravenna",
     "Ravennas pašvaldība", "Konsultāciju vietu un iespēju izveide ir pirmais solis",
     "individuālu psiholoģisko vai tehnisko atbalstu.", []),
    ("etnisko-attiecibu-konsultativa-padome-etno", 4, "4-atbildiba-un-apnemsanas", ["FI"], "",
     "Etnisko attiecību konsultatīvā padome (ETNO)", "Etnisko attiecību konsultatīvā padome (ETNO) Somijā",
     "reģionālajām iestādēm un pašvaldībām.",
     ["https://valtioneuvosto.fi/en/-/1410853/new-advisory-board-for-ethnic-relations-etno-appointed"]),
    ("funzi", 5, "5-preciza-brivpratigo-ieguldijuma-salagosana-ar-beglu-konkreta", ["FI"], "", "Funzi",
     "Jaunuzņēmums Funzi nodrošina \"mācību paketes\" lietotni patvēruma meklētājiem",
     "atvieglojot viņu integrāciju Somijā.", ["https://www.funzi.fi"]),
    ("mazovijas-vojevodistes-migrantu-integracijas-modela-padome", 6,
     "6-daudzas-ieinteresetas-puses-un-daudzlimenu-strategija", ["PL"], "",
     "Mazovijas vojevodistes birojs", "Polijā, Mazovijas vojevodistes Migrantu integrācijas",
     "lai izveidotu valsts mēroga stratēģiju imigrantu integrācijai.",
     ["https://www.gov.pl/web/uw-mazowiecki/informacje-o-projekcie-wsparcie-integracji-cudzoziemcow-na-mazowszu"]),
    ("vietejie-ricibas-plani-vrp-serbija", 6, "6-daudzas-ieinteresetas-puses-un-daudzlimenu-strategija",
     ["RS"], "Bačka Topola", "Bačkas Topolas pašvaldība", "Vietējo rīcības plānu (VRP) mērķis Serbijā",
     "partnerībā ar dažādām ieinteresētajām pusēm.",
     ["https://kirs.gov.rs/media/uploads/Lokalni%20akcioni%20plan%20opstine%20Backa%20Topola-2020--2024.pdf"]),
    ("oboristes-rajona-integracijas-atbalsts", 6, "6-daudzas-ieinteresetas-puses-un-daudzlimenu-strategija",
     ["BG"], "Sofia", "Sofijas pašvaldības Oboristes rajons", "Bulgārijā Sofijas pašvaldības Oboristes rajons",
     "ar Eiropas un starptautisko finansējumu.", []),
    ("emilijas-romanjas-otras-valodas-apguve-un-starpkulturu-mediacija", 6,
     "6-uznemosas-valsts-sabiedribas-iesaiste", ["IT"], "", "Emīlijas-Romanjas reģions",
     "Itālijā Emīlijas-Romanjas reģions", "izmantojot daudzlīmeņu un strukturētu partnerību.",
     ["https://sociale.regione.emilia-romagna.it/immigrati-e-stranieri/temi/italiano-per-stranieri-1"]),
    ("briseles-ricibas-plans-cinai-pret-rasismu-un-diskriminaciju", 6,
     "6-uznemosas-valsts-sabiedribas-iesaiste", ["BE"], "Brussels", "Briseles galvaspilsētas reģions",
     "Beļģijas galvaspilsētas Briseles pašvaldība pieņēma Rīcības plānu cīņai pret rasismu un "
     "diskrimināciju 2018.–2020. gadam", "strādāt saskaņā ar šo plānu.",
     ["https://equal.brussels/wp-content/uploads/2020/03/Plan-daction-bruxellois-contre-le-racisme_FR_def.pdf"]),
    ("yalla-trappan", 6, "6-atbildiba-un-lidzdaliba", ["SE"], "Malmö", "Yalla Trappan",
     "Zviedrijā labu sociālās uzņēmējdarbības praksi pārstāv Yalla Trappan – darba integrācijas",
     "tikt atstumtām no darba tirgus.", ["https://www.yallatrappan.com"]),
]


@pytest.mark.parametrize("pid, area, factor, countries, city, org, start, end, urls", GOLDEN,
                         ids=[g[0] for g in GOLDEN])
def test_practice_fields(handbook, pid, area, factor, countries, city, org, start, end, urls):
    practice = {p.id: p for p in handbook.practices}[pid]
    assert (practice.area, practice.success_factor, practice.countries) == (area, factor, countries)
    assert (practice.city, practice.organisation) == (city, org)
    assert practice.text.startswith(start)
    assert practice.text.endswith(end)
    assert practice.urls == urls


@pytest.mark.parametrize("pid, inside", [
    # The end of HITL is printed after two other examples and a sub-heading.
    ("humans-in-the-loop", "var sūdzēties par personīgām problēmām. Šīs anonīmās anketas"),
    # The end of a Serbian example is printed at the very top of the section, before it begins.
    ("vietejie-ricibas-plani-vrp-serbija", "nodrošinot telpu veselības aprūpes, izglītības, kultūras"),
    # A sentence continued after a page's URL list.
    ("oboristes-rajona-integracijas-atbalsts", "saskaņā ar apgabala kompetencēm līdz pat 6 mēnešiem"),
    # A paragraph printed after the next example (a reviewed fragment).
    ("mazovijas-vojevodistes-migrantu-integracijas-modela-padome", "Šie dokumenti atbalstīs integrācijas"),
    # A sentence split by a blank line inside a column.
    ("hemenlinnas-kursi-imigrantiem-arpus-formalas-izglitibas", "Dalībnieki var arī īstenot personīgos"),
    ("lietuvas-ricibas-plans-arvalstnieku-integracijai-2018-2020-gadam", "Darba devējiem ir paredzēti"),
])
def test_split_practices_are_stitched(handbook, pid, inside):
    practice = {p.id: p for p in handbook.practices}[pid]
    assert inside in practice.text


def test_no_practice_is_glued_to_a_neighbour(handbook, curation):
    for practice in handbook.practices:
        foreign = [e.anchor for e in curation.practices
                   if e.title != practice.title and e.anchor in practice.text]
        assert not foreign, (practice.id, foreign)
    # "Somālijas fonds" is named inside the Masovian council's text, which is no anchor.
    assert "Emīlijas-Romanjas" not in {p.id: p for p in handbook.practices}[
        "briseles-ricibas-plans-cinai-pret-rasismu-un-diskriminaciju"].text


def test_no_practice_text_is_lost_or_doubled(handbook_text, handbook, curation):
    """Every word of every example section lands in exactly one practice."""
    sections = split_sections(clean_lines(handbook_text))
    for number, lines in sections.areas.items():
        section = parse_area(number, lines, curation.references_start.get(number))
        printed = Counter(w for b in section.examples if b.kind == TEXT for w in WORD.findall(b.text))
        stitched = Counter(w for p in handbook.practices if p.area == number
                           for w in WORD.findall(p.text))
        assert printed == stitched, number


def _all_texts(handbook):
    for area in handbook.areas:
        yield area.title
        yield area.motto
        yield area.introduction
        yield from area.benefits
        for f in area.success_factors:
            yield f.name
            yield f.description
    for checklist in handbook.checklists:
        yield checklist.title
        yield checklist.introduction
        yield from (i.text for i in checklist.items)
    for p in handbook.practices:
        yield p.title
        yield p.text
    for r in handbook.references:
        yield r.citation
        yield r.description
    for d in handbook.quality_domains:
        for q in d.questions:
            yield q.text
            yield from (i.text for i in q.indicators)
    for t in handbook.glossary:
        yield t.definition


def test_no_record_contains_extraction_noise(handbook):
    for text in _all_texts(handbook):
        for line in text.split("\n"):
            assert not is_letter_spaced(line), line
            assert not re.fullmatch(r"\s*\d{1,3}\s*", line), text[:80]
        assert "\ufffd" not in text and "\t" not in text and "  " not in text
        assert "http" not in text, text[:80]
        assert not re.search(r"\w- \w", text), text[:80]  # a line-end hyphen left in a word


def test_no_duplicated_urls(handbook):
    for record in [*handbook.practices, *handbook.references]:
        assert len(record.urls) == len(set(record.urls)), record.id
    all_practice_urls = [u for p in handbook.practices for u in p.urls]
    assert len(all_practice_urls) == len(set(all_practice_urls))
    assert not any("safelinks" in u for u in all_practice_urls)


def test_references_are_shared_between_areas(handbook):
    refs = {r.id: r for r in handbook.references}
    toolkit = refs["the-unhcr-toolkit-for-participatory-assessment-in-operations-2006"]
    assert toolkit.areas == [1, 3, 4]
    assert toolkit.urls == ["https://www.refworld.org/pdfid/462df4232.pdf"]
    assert toolkit.authors == "UNHCR"
    benchmark_2019 = [r for r in handbook.references if r.title.startswith("The European Benchmark")
                      and r.year == 2019][0]
    assert benchmark_2019.areas == [5, 6]
    ewsi = [r for r in handbook.references if r.title.startswith("What measures")][0]
    assert ewsi.areas == [3, 6] and len(ewsi.urls) == 2
    piłat = [r for r in handbook.references if r.authors.startswith("Piłat")][0]
    assert (piłat.year, piłat.title) == (2017, "Local responses to the refugee crisis in Poland. "
                                               "Reception and integration")


def test_quality_criteria(handbook):
    domains = handbook.quality_domains
    assert [d.name for d in domains] == ["Iekļautība un līdzdalība", "Atbilstība un papildināmība",
                                         "Efektivitāte", "Ilgtspējība", "Partnerība un sadarbība"]
    assert [len(q.indicators) for d in domains for q in d.questions] == [5, 3, 3, 1, 3, 1, 4, 6, 1, 3, 2, 2]
    q51 = domains[4].questions[0]
    assert q51.text.endswith("(piemēram, pilsoniskā sabiedrība, valsts iestādes, privātais sektors)")
    assert domains[3].questions[0].indicators[0].text.endswith("vai darbības rezultātu izmantošanu.")


def test_glossary(handbook):
    terms = {t.term: t for t in handbook.glossary}
    assert list(terms)[:3] == ["Aizsardzība", "Alternatīvās aizsardzības saņēmēji", "Ārzemnieks"]
    assert terms["UNHCR mandāts"].definition.endswith("pilsonības tiesību aktu un prakses jomā")
    assert "Apvienoto Nāciju Organizācijas Ģenerālās asamblejas" in terms["UNHCR mandāts"].definition


def test_same_handbook_gives_same_ids(handbook_text, curation, handbook):
    from kb.ingest import parse_handbook
    again = parse_handbook(handbook_text, curation)
    assert [p.id for p in again.practices] == [p.id for p in handbook.practices]
    assert [r.id for r in again.references] == [r.id for r in handbook.references]


def test_every_area_factor_checklist_and_item_has_its_english_wording(handbook):
    assert handbook.areas[3].title_en == "Work with people, not only for them"
    assert all(a.title_en and a.motto_en for a in handbook.areas)
    assert all(f.name_en for a in handbook.areas for f in a.success_factors)
    items = [i for c in handbook.checklists for i in c.items]
    assert len(items) == 93 and all(c.title_en for c in handbook.checklists)
    assert all(i.text_en and len(i.keywords_en) == len(i.keywords) for i in items)
    item = next(i for i in items if i.id == "area-4-07")
    assert item.text_en.startswith("During consultations, provide childcare")


def test_every_practice_and_item_has_activities_of_the_vocabulary(handbook):
    codes = {a.code for a in handbook.activities}
    assert len(codes) == 34
    assert all(1 <= len(p.activities) <= 6 and set(p.activities) <= codes
               for p in handbook.practices)
    items = [i for c in handbook.checklists for i in c.items]
    assert all(1 <= len(i.activities) <= 4 and set(i.activities) <= codes for i in items)
    practices = {p.id: p for p in handbook.practices}
    assert practices["humans-in-the-loop"].activities[0] == "feedback"
