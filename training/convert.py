"""Convert the NorNE / Norwegian Dependency Treebank (Bokmål) to spaCy DocBins.

Splits (UD-style):
  train = treebank (NDT) sentences whose text occurs in neither UD dev nor UD test
          (every copy of a duplicated text is removed),
  dev   = UD dev  (no_bokmaal-ud-dev.conllu),
  test  = UD test (no_bokmaal-ud-test.conllu).

Annotation written to the docs: UPOS (token.pos), lemma, NER (9 NorNE types).
No morphological features (see training/README.md): the treebank part only has
NDT features, and the pipeline uses the morphologizer for UPOS only.

For train, UPOS comes from the NDT tag plus context rules (``ndt_upos``); its
agreement with UD UPOS is measured on the treebank copies of the UD dev/test
sentences and printed.

Usage:
  python training/convert.py [--corpus ../shared/data/norne] [--out training/corpus]
"""
from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

ENT_TYPES = ("PER", "ORG", "LOC", "GPE_LOC", "GPE_ORG", "PROD", "EVT", "DRV", "MISC")

# quote marks are normalised when matching treebank sentences to UD texts
_QUOTES = {"«": '"', "»": '"', "“": '"', "”": '"', "„": '"', "‘": "'", "’": "'"}

PUNCT_TAGS = {"clb", "<komma>", "<strek>", "<anf>", "<parentes-beg>", "<parentes-slutt>"}
BASE_UPOS = {
    "adj": "ADJ",
    "adv": "ADV",
    "prep": "ADP",
    "konj": "CCONJ",
    "sbu": "SCONJ",
    "det": "DET",
    "pron": "PRON",
    "inf-merke": "PART",
    "interj": "INTJ",
    "ukjent": "X",
    "symb": "SYM",
    "verb": "VERB",
}
NUMBER_WORDS = {
    "null", "en", "ett", "én", "ei", "to", "tre", "fire", "fem", "seks", "sju", "syv", "åtte",
    "ni", "ti", "elleve", "tolv", "tretten", "fjorten", "femten", "seksten", "sytten", "atten",
    "nitten", "tjue", "tyve", "tretti", "tredve", "førti", "femti", "seksti", "sytti", "åtti",
    "nitti", "hundre", "tusen", "million", "millioner", "milliard", "milliarder",
}
# NDT relations of a predicative complement
PRED_RELS = {"SPRED", "FSPRED", "OPRED", "FOPRED"}


# ----------------------------------------------------------------------------- reading

def find_corpus(arg: str | None) -> Path:
    """Resolve the NorNE directory robustly (cwd, repo root, the shared data dir)."""
    candidates = []
    if arg:
        p = Path(arg).expanduser()
        candidates += [p, REPO_ROOT / p] if not p.is_absolute() else [p]
    candidates += [
        REPO_ROOT.parent / "shared" / "data" / "norne",
        Path("/work/shared/data/norne"),
    ]
    for c in candidates:
        if (c / "ndt" / "nob").is_dir() and (c / "ud" / "nob").is_dir():
            return c.resolve()
    raise SystemExit(
        "NorNE corpus not found (looked in: " + ", ".join(str(c) for c in candidates) + ")"
    )


def read_ndt_file(path: Path) -> list[list[dict]]:
    """Read one NDT .conll file: id form lemma tag tag feats head rel _ name=IOB."""
    sents, cur = [], []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    sents.append(cur)
                    cur = []
                continue
            if line.startswith("#"):
                continue
            c = line.split("\t")
            if len(c) < 10 or not c[0].isdigit():
                continue
            ent = "O"
            for part in c[9].split("|"):
                if part.startswith("name="):
                    ent = part[5:]
            cur.append({
                "id": int(c[0]), "form": c[1], "lemma": c[2], "tag": c[3],
                "feats": [] if c[5] == "_" else c[5].split("|"),
                "head": int(c[6]) if c[6].isdigit() else 0, "rel": c[7], "ent": ent,
            })
    if cur:
        sents.append(cur)
    return sents


def read_conllu(path: Path) -> list[dict]:
    """Read a CoNLL-U file into {'text', 'tokens'} (multiword ranges/empty nodes skipped)."""
    sents, toks, text = [], [], None
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if toks:
                    sents.append({"text": text, "tokens": toks})
                toks, text = [], None
                continue
            if line.startswith("#"):
                if line.startswith("# text = "):
                    text = line[len("# text = "):]
                continue
            c = line.split("\t")
            if len(c) < 10 or not c[0].isdigit():
                continue
            misc = {} if c[9] == "_" else dict(
                kv.split("=", 1) for kv in c[9].split("|") if "=" in kv)
            toks.append({
                "id": int(c[0]), "form": c[1], "lemma": c[2], "upos": c[3],
                "head": int(c[6]) if c[6].isdigit() else 0, "rel": c[7],
                "ent": misc.get("name", "O"), "space": misc.get("SpaceAfter") != "No",
            })
    if toks:
        sents.append({"text": text, "tokens": toks})
    return sents


# ----------------------------------------------------------------------------- fixes

def strip_headline(sent: list[dict]) -> list[dict]:
    """Drop trailing `|` headline tokens (UD drops them)."""
    while sent and sent[-1]["form"] == "|":
        sent = sent[:-1]
    return sent


def fix_lemma(form: str, lemma: str) -> str:
    """Punctuation lemmas are written `$.`, `$,` ...: use the mark itself."""
    if lemma.startswith("$") and len(lemma) > 1:
        return form
    if lemma in ("", "_"):
        return form
    return lemma


def norm_form(form: str) -> str:
    return "".join(_QUOTES.get(ch, ch) for ch in form)


def sent_key(forms) -> tuple:
    return tuple(norm_form(f) for f in forms)


def fix_iob(tags: list[str]) -> list[str]:
    """Repair IOB2 sequences: an I- that does not continue an entity of its type becomes B-."""
    out, prev = [], "O"
    for t in tags:
        if t in ("O", "_", ""):
            t = "O"
        elif t.startswith("I-"):
            if prev == "O" or prev[2:] != t[2:]:
                t = "B-" + t[2:]
        elif not t.startswith("B-"):
            t = "O"
        if t != "O" and t[2:] not in ENT_TYPES:
            t = "O"
        out.append(t)
        prev = t
    return out


# ----------------------------------------------------------------------------- UPOS

def ndt_upos(sent: list[dict]) -> list[str]:
    """NDT tag + features + dependency context -> UD UPOS."""
    n = len(sent)
    children = defaultdict(list)
    for i, t in enumerate(sent):
        if 0 < t["head"] <= n:
            children[t["head"] - 1].append(i)
    out = []
    for i, t in enumerate(sent):
        tag, feats, low = t["tag"], set(t["feats"]), t["form"].lower()
        lemma = t["lemma"].lower()
        kids = children[i]
        if tag in PUNCT_TAGS:
            upos = "PUNCT"
        elif tag == "subst":
            upos = "PROPN" if "prop" in feats else "NOUN"
        elif tag == "verb":
            upos = "VERB"
            # a verb governing an infinitive / participle verb complement (INFV) is AUX
            if any(sent[k]["rel"] == "INFV" and sent[k]["tag"] == "verb" for k in kids):
                upos = "AUX"
            # være/bli governing a predicative is a copula (AUX)
            elif lemma in ("være", "bli") and any(sent[k]["rel"] in PRED_RELS for k in kids):
                upos = "AUX" if lemma == "være" else "VERB"
        elif tag == "det":
            if "poss" in feats:
                upos = "PRON"
            elif "kvant" in feats and (
                any(ch.isdigit() for ch in low) or (low in NUMBER_WORDS and low not in ("en", "ei"))
                or low in ("ene", "eneste", "halvannen", "halvannet")
            ):
                upos = "NUM"
            else:
                upos = "DET"
        elif tag == "adv" and low in ("ikke", "ikkje"):
            upos = "PART"
        elif tag == "sbu" and low == "som":
            upos = "PRON"
        elif tag == "prep" and low == "som":
            # predicative 'som' ("valgt som leder") is SCONJ in UD, otherwise ADP
            upos = "SCONJ" if t["rel"] in PRED_RELS else "ADP"
        elif tag == "prep":
            upos = "ADP"
            # a preposition whose complement is a clause (finite verb or infinitive) is SCONJ
            if any(sent[k]["rel"] == "PUTFYLL" and sent[k]["tag"] in ("verb", "inf-merke") for k in kids):
                upos = "SCONJ"
        elif tag == "pron":
            upos = "PRON"
        elif tag == "adv":
            upos = "ADV"
        else:
            upos = BASE_UPOS.get(tag, "X")
        if low in ("her", "der") and tag != "sbu":
            upos = "ADV"  # relative 'der' (sbu) stays SCONJ
        out.append(upos)
    return out


# ----------------------------------------------------------------------------- matching

class Corpus:
    def __init__(self, corpus_dir: Path):
        self.dir = corpus_dir
        self.ndt: list[tuple[str, list[dict]]] = []  # (file stem, tokens)
        for f in sorted((corpus_dir / "ndt" / "nob").glob("*.conll")):
            for s in read_ndt_file(f):
                self.ndt.append((f.stem, s))
        ud = corpus_dir / "ud" / "nob"
        self.dev = read_conllu(next(ud.glob("*-ud-dev.conllu")))
        self.test = read_conllu(next(ud.glob("*-ud-test.conllu")))


class TreebankIndex:
    """Treebank sentences by their text (headline '|' stripped), to find the treebank copy of a
    UD sentence: by the same words, or, for a UD sentence cut short, as a prefix."""

    def __init__(self, ndt: list[tuple[str, list[dict]]]):
        self.by_key: dict[tuple, list[int]] = defaultdict(list)
        self.stripped: list[list[dict]] = []
        self.n_headline = 0
        for idx, (_, s) in enumerate(ndt):
            s2 = strip_headline(s)
            if len(s2) != len(s):
                self.n_headline += 1
            self.stripped.append(s2)
            self.by_key[sent_key(t["form"] for t in s2)].append(idx)

    def find(self, tokens: list[dict]) -> tuple[list[int], bool]:
        """Indices of the treebank copies of a UD sentence, and whether found by prefix only."""
        key = sent_key(t["form"] for t in tokens)
        hits = self.by_key.get(key)
        if hits:
            return list(hits), False
        n = len(key)
        return [i for i, s in enumerate(self.stripped)
                if len(s) > n and sent_key(t["form"] for t in s[:n]) == key], True


def split(corpus: Corpus):
    """Return (train NDT sentences, {dev/test: list of (ud_sent, ndt_sent or None)}, stats)."""
    index = TreebankIndex(corpus.ndt)
    stripped, by_key = index.stripped, index.by_key
    held_out: set[int] = set()
    aligned = {}
    unmatched = Counter()
    prefix_matches = Counter()
    for name, sents in (("dev", corpus.dev), ("test", corpus.test)):
        pairs = []
        for ud in sents:
            hits, by_prefix = index.find(ud["tokens"])
            if hits and by_prefix:
                prefix_matches[name] += 1
            if hits:
                held_out.update(hits)
                pairs.append((ud, stripped[hits[0]][: len(ud["tokens"])]))
            else:
                unmatched[name] += 1
                pairs.append((ud, None))
        aligned[name] = pairs
    train = [(corpus.ndt[i][0], stripped[i]) for i in range(len(stripped)) if i not in held_out]
    n_dupe_texts = sum(1 for k, v in by_key.items() if len(v) > 1 and any(i in held_out for i in v))
    stats = {
        "ndt_sentences": len(corpus.ndt),
        "headline_stripped": index.n_headline,
        "held_out_copies": len(held_out),
        "dupe_heldout_texts": n_dupe_texts,
        "unmatched": dict(unmatched),
        "prefix_matches": dict(prefix_matches),
    }
    return train, aligned, stats


def articles(corpus: Corpus, name: str, index: TreebankIndex | None = None) -> list[tuple[str | None, list[dict]]]:
    """The UD ``name`` split (dev/test) cut into source articles: runs of consecutive UD sentences
    whose treebank copies are in the same NDT file (e.g. ``ap009_0005``).

    Why: UD has no document markers, and the entity consistency rules work across a whole text
    (rta runs them over a transcript); an NDT file is the natural text unit. A UD sentence
    without a treebank copy (none in NorNE 2020) is an article of its own, stem ``None``.
    """
    index = index or TreebankIndex(corpus.ndt)
    out: list[tuple[str | None, list[dict]]] = []
    prev: object = object()
    for ud in (corpus.dev if name == "dev" else corpus.test):
        if not ud["tokens"]:
            continue
        hits, _ = index.find(ud["tokens"])
        stem = corpus.ndt[hits[0]][0] if hits else None
        if stem is None or stem != prev:
            out.append((stem, []))
        out[-1][1].append(ud)
        prev = stem
    return out


def upos_agreement(aligned) -> tuple[int, int, Counter]:
    ok = total = 0
    conf = Counter()
    for pairs in aligned.values():
        for ud, ndt in pairs:
            if ndt is None:
                continue
            pred = ndt_upos(ndt)
            for p, t in zip(pred, ud["tokens"]):
                total += 1
                if p == t["upos"]:
                    ok += 1
                else:
                    conf[(p, t["upos"], t["form"].lower())] += 1
    return ok, total, conf


# ----------------------------------------------------------------------------- docs

NO_SPACE_BEFORE = {",", ".", ":", ";", "!", "?", ")", "]", "}", "»", "%", "..."}
NO_SPACE_AFTER = {"(", "[", "{", "«"}


def guess_spaces(forms: list[str]) -> list[bool]:
    sp = []
    for i, f in enumerate(forms):
        nxt = forms[i + 1] if i + 1 < len(forms) else None
        sp.append(not (nxt is None or nxt in NO_SPACE_BEFORE or f in NO_SPACE_AFTER))
    return sp


def make_doc(vocab, sents: list[dict]):
    """sents: [{'words', 'spaces', 'pos', 'lemmas', 'ents'}] -> one Doc (sentence starts set)."""
    from spacy.tokens import Doc

    words, spaces, pos, lemmas, ents, starts = [], [], [], [], [], []
    for s in sents:
        words += s["words"]
        sp = list(s["spaces"])
        sp[-1] = True
        spaces += sp
        pos += s["pos"]
        lemmas += s["lemmas"]
        ents += fix_iob(s["ents"])
        starts += [True] + [False] * (len(s["words"]) - 1)
    if all("heads" in s for s in sents):
        # NDT dependency trees (train only): an auxiliary parsing task for the shared tok2vec
        heads, deps, base = [], [], 0
        for s in sents:
            n = len(s["words"])
            heads += [base + h - 1 if 0 < h <= n else base + i for i, h in enumerate(s["heads"])]
            deps += [d if 0 < h <= n else "ROOT" for h, d in zip(s["heads"], s["deps"])]
            base += n
        return Doc(vocab, words=words, spaces=spaces, pos=pos, lemmas=lemmas, ents=ents,
                   heads=heads, deps=deps)
    return Doc(vocab, words=words, spaces=spaces, pos=pos, lemmas=lemmas, ents=ents,
               sent_starts=starts)


def ndt_record(s: list[dict], parse: bool = False) -> dict:
    forms = [t["form"] for t in s]
    extra = {"heads": [t["head"] for t in s], "deps": [t["rel"] or "dep" for t in s]} if parse else {}
    return {
        **extra,
        "words": forms,
        "spaces": guess_spaces(forms),
        "pos": ndt_upos(s),
        "lemmas": [fix_lemma(t["form"], t["lemma"]) for t in s],
        "ents": [t["ent"] for t in s],
    }


def ud_record(ud: dict) -> dict:
    toks = ud["tokens"]
    return {
        "words": [t["form"] for t in toks],
        "spaces": [t["space"] for t in toks],
        "pos": [t["upos"] for t in toks],
        "lemmas": [fix_lemma(t["form"], t["lemma"]) for t in toks],
        "ents": [t["ent"] for t in toks],
    }


def group(records: list, n: int) -> list[list]:
    return [records[i:i + n] for i in range(0, len(records), n)]


def convert(corpus_dir: Path, out_dir: Path, n_sents: int = 10, verbose: bool = True, parse: bool = False,
            show_confusions: int = 0) -> dict:
    import spacy
    from spacy.tokens import DocBin

    corpus = Corpus(corpus_dir)
    train, aligned, stats = split(corpus)
    ok, total, conf = upos_agreement(aligned)
    stats["upos_agreement"] = ok / total if total else 0.0
    stats["upos_agreement_tokens"] = total

    nlp = spacy.blank("nb")
    out_dir.mkdir(parents=True, exist_ok=True)
    lost = Counter()
    counts = {}

    # train: group consecutive sentences of the same source file
    by_file: dict[str, list] = defaultdict(list)
    for stem, s in train:
        if not s:
            lost["train_empty"] += 1
            continue
        by_file[stem].append(ndt_record(s, parse=parse))
    train_docs = []
    for stem in sorted(by_file):
        for chunk in group(by_file[stem], n_sents):
            train_docs.append(make_doc(nlp.vocab, chunk))
    splits = {"train": train_docs}
    for name in ("dev", "test"):
        recs = [ud_record(ud) for ud, _ in aligned[name] if ud["tokens"]]
        splits[name] = [make_doc(nlp.vocab, c) for c in group(recs, n_sents)]
    for name, docs in splits.items():
        attrs = ["ORTH", "SPACY", "POS", "LEMMA", "ENT_IOB", "ENT_TYPE", "SENT_START"]
        if parse and name == "train":
            attrs += ["HEAD", "DEP"]
        db = DocBin(store_user_data=False, attrs=attrs)
        for d in docs:
            db.add(d)
        db.to_disk(out_dir / f"{name}.spacy")
        ents = Counter(e.label_ for d in docs for e in d.ents)
        counts[name] = {
            "docs": len(docs),
            "sentences": sum(len(list(d.sents)) for d in docs),
            "tokens": sum(len(d) for d in docs),
            "entities": sum(ents.values()),
            "entity_types": dict(sorted(ents.items())),
        }
    # dev/test again, one Doc per source article (`articles`), to score the consistency rules
    # the way rta runs them: python -m spacy evaluate rta/models/nb_rta <out>/test_articles.spacy
    index = TreebankIndex(corpus.ndt)
    for name in ("dev", "test"):
        db = DocBin(store_user_data=False, attrs=["ORTH", "SPACY", "POS", "LEMMA", "ENT_IOB", "ENT_TYPE", "SENT_START"])
        arts = articles(corpus, name, index)
        for _stem, sents in arts:
            db.add(make_doc(nlp.vocab, [ud_record(ud) for ud in sents]))
        db.to_disk(out_dir / f"{name}_articles.spacy")
        counts[f"{name}_articles"] = {"docs": len(arts), "sentences": sum(len(x) for _, x in arts)}
    stats["counts"] = counts
    stats["lost"] = {
        "ndt_empty_after_headline_strip": lost["train_empty"],
        "ud_unmatched_in_treebank": stats["unmatched"],
        "train_removed_as_dev_test_copies": stats["held_out_copies"],
    }
    if verbose:
        print(f"corpus: {corpus_dir}")
        print(f"treebank sentences: {stats['ndt_sentences']} "
              f"(trailing '|' headline stripped from {stats['headline_stripped']})")
        print(f"dev/test texts found in treebank: {stats['held_out_copies']} treebank sentences removed "
              f"from train ({stats['dupe_heldout_texts']} held-out texts occur more than once); "
              f"prefix matches: {stats['prefix_matches']}")
        for name, c in counts.items():
            if name.endswith("_articles"):
                print(f"{name}: {c['sentences']} sentences in {c['docs']} source articles")
                continue
            print(f"{name:5s}: {c['sentences']:6d} sentences {c['tokens']:7d} tokens "
                  f"{c['entities']:5d} entities in {c['docs']} docs  {c['entity_types']}")
        n_lost = lost["train_empty"] + sum(stats["unmatched"].values())
        print(f"sentences lost in conversion: {n_lost} "
              f"(empty after strip: {lost['train_empty']}, UD sentences not found in treebank: "
              f"{stats['unmatched'] or 0})")
        print(f"UPOS mapping agreement NDT->UD on aligned dev+test: {ok}/{total} = {ok / total:.4f}")
        if show_confusions:
            for (p, g, w), c in conf.most_common(show_confusions):
                print(f"  {c:5d} mapped {p:6s} gold {g:6s} {w}")
    return stats


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", default="../shared/data/norne",
                    help="NorNE directory (relative paths are tried from cwd and the repo root)")
    ap.add_argument("--out", default=None,
                    help="output dir for train/dev/test .spacy (default: <repo>/training/corpus)")
    ap.add_argument("--n-sents", type=int, default=10, help="sentences per Doc")
    ap.add_argument("--parse", action="store_true",
                    help="keep the NDT dependency trees in train (for the auxiliary parser of config.parse-aux.cfg)")
    ap.add_argument("--confusions", type=int, default=0, help="print the N most frequent UPOS mismatches")
    a = ap.parse_args(argv)
    corpus = find_corpus(a.corpus)
    out = Path(a.out) if a.out else REPO_ROOT / "training" / "corpus"
    convert(corpus, out, n_sents=a.n_sents, show_confusions=a.confusions, parse=a.parse)
    return 0


if __name__ == "__main__":
    sys.exit(main())
