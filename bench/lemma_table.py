"""Build a Latvian word form -> lemma table from Debian's hunspell-lv dictionary (experiment).

kb does not use it: lemmas in the Latvian analyzer, instead of the stemmer or stemmed in turn,
and an accent-restoration table from the dictionary's forms did not raise `kb eval`'s hybrid
nDCG@10 (README, Evaluation, has the figures). This script rebuilds the tables to try again:

    apt-get install hunspell-lv        # /usr/share/hunspell/lv_LV.dic and lv_LV.aff
    python bench/lemma_table.py [--dic DIR] [-o lemmas.lv.tsv] [--all-forms]

Every dictionary entry is expanded through its affix rules (suffixes, their continuation
classes one level deep, and prefixes), giving the entry -- the lemma -- for each form. The
table keeps only the forms the handbook and the data files in corpus/ use, so it stays small
(a query's form the handbook lacks falls back to the stemmer, which the lemma is stemmed by
too). A form of two lemmas is left out.
"""
from __future__ import annotations

import argparse
import collections
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
WORD = re.compile(r"[^\W\d_]+")


def load_affixes(path: Path):
    """{flag: [(strip, add, continuation flags, condition)]} and {flag: "SFX" | "PFX"}."""
    rules, kinds = collections.defaultdict(list), {}
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        parts = lines[i].split()
        if len(parts) >= 4 and parts[0] in ("SFX", "PFX") and parts[2] in ("Y", "N"):
            kind, flag, count = parts[0], parts[1], int(parts[3])
            kinds[flag] = kind
            for line in lines[i + 1:i + 1 + count]:
                p = line.split()
                strip = "" if p[2] == "0" else p[2]
                add, _, continuation = p[3].partition("/")
                condition = p[4] if len(p) > 4 else "."
                pattern = re.compile(condition + "$" if kind == "SFX" else "^" + condition)
                rules[flag].append((strip, "" if add == "0" else add, continuation, pattern))
            i += count + 1
        else:
            i += 1
    return rules, kinds


def forms(word: str, flags: str, rules, kinds, depth: int = 0) -> set[str]:
    """Every form of a dictionary entry (the entry itself unless it needs an affix, '{')."""
    found = set() if "{" in flags else {word}
    suffixed = {word}
    for flag in flags:
        if kinds.get(flag) != "SFX":
            continue
        for strip, add, continuation, pattern in rules[flag]:
            if pattern.search(word) and word.endswith(strip):
                form = word[:len(word) - len(strip)] + add
                found.add(form)
                suffixed.add(form)
                if continuation and depth == 0:
                    found |= forms(form, continuation, rules, kinds, 1)
    for flag in flags:
        if kinds.get(flag) != "PFX":
            continue
        for strip, add, _, pattern in rules[flag]:
            found |= {add + base[len(strip):] for base in suffixed
                      if pattern.search(base) and base.startswith(strip)}
    return found


def corpus_counts() -> collections.Counter:
    """How often each lower-cased word occurs in the handbook and the reviewed data files."""
    counts = collections.Counter()
    for path in [ROOT / "corpus" / "handbook.lv.txt", *sorted((ROOT / "corpus").glob("*.toml"))]:
        counts.update(w.lower() for w in WORD.findall(path.read_text(encoding="utf-8")))
    return counts


def build(dic: Path, aff: Path, all_forms: bool = False) -> dict[str, str]:
    rules, kinds = load_affixes(aff)
    counts = corpus_counts()
    lemmas: dict[str, set[str]] = {}
    for line in dic.read_text(encoding="utf-8").splitlines()[1:]:
        entry = line.split()[0] if line.split() else ""
        word, _, flags = entry.partition("/")
        if word and not word[0].isupper():   # names are not inflected in queries like words
            lemmas.setdefault(word, set()).update(forms(word, flags, rules, kinds))
    used = {lemma: sum(counts[f] for f in fs) for lemma, fs in lemmas.items()}
    corpus_words = set(counts)
    of: dict[str, set[str]] = collections.defaultdict(set)
    for lemma, fs in lemmas.items():
        if used[lemma]:
            for form in fs if all_forms else fs & corpus_words:
                of[form].add(lemma)
    # A form of two lemmas ("kursi": kurss or kurt) is left to the stemmer: without the
    # sentence, picking one is a guess, and a wrong guess joins unrelated words.
    return {form: next(iter(found)) for form, found in of.items() if len(found) == 1}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dic", type=Path, default=Path("/usr/share/hunspell"),
                        help="folder with lv_LV.dic and lv_LV.aff")
    parser.add_argument("-o", "--output", type=Path, default=Path("lemmas.lv.tsv"))
    parser.add_argument("--all-forms", action="store_true",
                        help="every form of the handbook's lemmas (the accent-restoration "
                             "experiment), not only the forms the handbook uses")
    args = parser.parse_args()
    dic, aff = args.dic / "lv_LV.dic", args.dic / "lv_LV.aff"
    if not dic.exists():
        sys.exit(f"{dic} not found: apt-get install hunspell-lv, or pass --dic")
    table = build(dic, aff, args.all_forms)
    header = ("# Latvian word form -> lemma, for the lemmas the handbook uses; generated by "
              "bench/lemma_table.py from Debian's hunspell-lv (LGPL-2.1), do not edit.\n")
    args.output.write_text(header + "".join(f"{f}\t{table[f]}\n" for f in sorted(table)),
                           encoding="utf-8")
    print(f"{len(table)} forms of {len(set(table.values()))} lemmas -> {args.output}")


if __name__ == "__main__":
    main()
