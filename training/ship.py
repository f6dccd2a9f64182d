"""Copy a trained pipeline into rta/models/nb_rta and write its meta.json.

  python training/ship.py --model training/output/run1/model-best \
      --test-scores training/output/run1/test.json --dev-scores training/output/run1/dev.json \
      --train-seconds 1234 [--run run1]

Keeps only what spacy.load needs (config, meta, tokenizer, vocab strings, component weights),
measures words/s on ONE core and the size on disk, and records the git commit of
training/config.cfg. Never reaches the network.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

for _v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS"):
    os.environ[_v] = "1"

REPO = Path(__file__).resolve().parent.parent
DEST = REPO / "rta" / "models" / "nb_rta"
# Party abbreviations the treebank writes without a full stop ('Frp', 'Ap', 'Sp'). As spaCy
# tokenizer exceptions, 'Frp.' at the end of a sentence swallowed the full stop, so the name
# could not be found as 'Frp'; removing them mends that (UD dev: 6 of 1,688 entities).
PERIOD_NOT_PART = ("Ap.", "Frp.", "Sp.")
ENT_TYPES = ("PER", "ORG", "LOC", "GPE_LOC", "GPE_ORG", "PROD", "EVT", "DRV", "MISC")


def dir_size(p: Path) -> int:
    return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())


def pick_scores(raw: dict) -> dict:
    out = {
        "upos_acc": round(raw.get("pos_acc") or 0.0, 4),
        "lemma_acc": round(raw.get("lemma_acc") or 0.0, 4),
        "ents_p": round(raw.get("ents_p") or 0.0, 4),
        "ents_r": round(raw.get("ents_r") or 0.0, 4),
        "ents_f": round(raw.get("ents_f") or 0.0, 4),
        "ents_per_type": {
            k: {m: round(v[m], 4) for m in ("p", "r", "f")}
            for k, v in sorted((raw.get("ents_per_type") or {}).items())
        },
    }
    if raw.get("speed"):
        out["eval_words_per_second"] = int(raw["speed"])
    return out


def git(*args) -> str:
    try:
        return subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True,
                              check=True).stdout.strip()
    except Exception:
        return ""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--test-scores", required=True)
    ap.add_argument("--dev-scores", required=True)
    ap.add_argument("--train-seconds", type=float, required=True)
    ap.add_argument("--run", default="")
    ap.add_argument("--version", default="0.1.0")
    ap.add_argument("--dest", default=str(DEST))
    ap.add_argument("--config", default="training/config.cfg", help="the training config (its commit goes in meta)")
    ap.add_argument("--corpus", default=str(REPO / "training" / "corpus"),
                    help="converted DocBins to score the shipped pipeline on (else the given score files)")
    ap.add_argument("--note", default="", help="what was special about this run (goes in meta.training)")
    a = ap.parse_args(argv)

    src, dest = Path(a.model), Path(a.dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(src, dest)

    import spacy

    # Re-serialise: drops anything not needed at runtime (e.g. empty lookups), then
    # remove the training-only [paths]/[corpora] values that point into training/.
    nlp = spacy.load(dest)
    shutil.rmtree(dest)
    nlp.config["paths"]["train"] = None
    nlp.config["paths"]["dev"] = None
    # the training-time augmenter (training/augment.py) is not part of the package
    nlp.config["corpora"]["train"]["augmenter"] = None
    nlp.tokenizer.rules = {k: v for k, v in nlp.tokenizer.rules.items() if k not in PERIOD_NOT_PART}
    # The pipeline ends with rta's entity consistency rules, so spacy.load gives the NER as rta
    # runs it (the factory is found through rta's spacy_factories entry point).
    from rta.entities import COMPONENT, add_to  # noqa: E402

    add_to(nlp)
    nlp.to_disk(dest)
    for junk in dest.rglob("*"):
        if junk.is_file() and junk.name in ("lookups.bin",) and junk.stat().st_size < 100:
            junk.unlink()

    sys.path.insert(0, str(REPO / "benchmarks"))
    from bench_pipeline import load_texts, words_per_second  # noqa: E402

    texts = load_texts()
    nlp = spacy.load(dest)
    wps = words_per_second(nlp, texts, repeats=2)

    # The NER as rta runs it: followed by the consistency rules (rta.entities), on 10-sentence
    # documents and whole source articles, and sentence by sentence with the rules over each 10
    # or over the whole article (bench_pipeline.evaluate).
    from bench_pipeline import evaluate as bench_evaluate  # noqa: E402

    with_rules = {}
    for split in ("test", "dev"):
        sc = bench_evaluate(nlp, None, split)
        if sc is not None:
            with_rules[f"ud_{split}"] = {
                mode: {m: round(sc[mode][f"ents_{m}"], 4) for m in ("p", "r", "f")}
                for mode in ("doc", "doc_raw", "sent", "sent_raw",
                             "article_doc", "article_doc_raw", "article_sent")
                if mode in sc
            }

    test = json.loads(Path(a.test_scores).read_text())
    dev = json.loads(Path(a.dev_scores).read_text())
    # Score the shipped pipeline itself (its tokenizer differs from model-best's, see
    # PERIOD_NOT_PART) the way `spacy evaluate` does, when the converted corpus is here.
    corpus = Path(a.corpus)
    if (corpus / "test.spacy").is_file() and (corpus / "dev.spacy").is_file():
        from spacy.training import Corpus

        with nlp.select_pipes(disable=[COMPONENT]):  # scores_ud_*: the trained model alone
            test = nlp.evaluate(list(Corpus(corpus / "test.spacy")(nlp)))
            dev = nlp.evaluate(list(Corpus(corpus / "dev.spacy")(nlp)))
    cfg_commit = git("log", "-1", "--format=%H", "--", a.config)
    v = spacy.about.__version__.split(".")
    meta = json.loads((dest / "meta.json").read_text())
    meta.update({
        "lang": "nb",
        "name": "nb_rta",
        "version": a.version,
        "spacy_version": f">={v[0]}.{v[1]}.0,<{v[0]}.{int(v[1]) + 1}.0",
        "description": (
            "Norwegian Bokmål CPU pipeline for rta: tok2vec, morphologizer (UPOS only, no "
            "morphological features), trainable lemmatizer and NER with the nine NorNE types "
            "(PER, ORG, LOC, GPE_LOC, GPE_ORG, PROD, EVT, DRV, MISC), then rta's entity "
            "consistency rules (rta_entity_consistency, no weights; needs rta installed). Trained "
            "by the rta project on the UD train part of the Norwegian Dependency Treebank with "
            "NorNE entities; model selection on UD dev, figures on UD test and dev "
            "(scores_ud_*: the trained components alone; ner_with_consistency_rules: with the rules)."
        ),
        "author": "rta developers",
        "license": "CC0-1.0 annotations (see licence_note)",
        "licence_note": (
            "Trained on the Norwegian Dependency Treebank (National Library of Norway / Språkbanken) "
            "and the NorNE entity annotations (Language Technology Group, University of Oslo, with "
            "Schibsted and the National Library of Norway). The annotations are CC0; the underlying "
            "texts may not be republished as stand-alone texts and are not included. The model "
            "stores word forms seen in training in its string table (vocab/strings.json); that is "
            "not a republication of the texts."
        ),
        "sources": [
            {"name": "Norwegian Dependency Treebank (Bokmål)", "url": "https://www.nb.no/sprakbanken/en/resource-catalogue/oai-nb-no-sbr-10/", "license": "CC0 1.0 (annotations)", "author": "National Library of Norway"},
            {"name": "NorNE (commit bd311de, 2020-05-11)", "url": "https://github.com/ltgoslo/norne", "license": "CC0 1.0 (annotations), as NDT", "author": "LTG UiO, Schibsted, National Library of Norway"},
            {"name": "UD_Norwegian-Bokmaal dev/test splits", "url": "https://github.com/UniversalDependencies/UD_Norwegian-Bokmaal", "license": "CC BY-SA 4.0"},
        ],
        "training": {
            "run": a.run,
            "config": a.config,
            "config_commit": cfg_commit,
            **({"note": a.note} if a.note else {}),
            "training_seconds": round(a.train_seconds),
            "hardware": "CPU, one thread (--gpu-id -1)",
            "data": "train = treebank sentences in neither UD dev nor test; dev = UD dev (model selection); test = UD test",
        },
        "ner_with_consistency_rules": {
            "component": COMPONENT,
            "note": ("NER P/R/F with rta.entities' rules after the NER, as rta loads the pipeline: "
                     "'doc' = 10-sentence documents, 'sent' = each sentence tagged alone and the rules "
                     "run over its 10; 'article_doc' / 'article_sent' = the same with the whole source "
                     "article (NDT file) instead of 10 sentences ('article_sent' is how `rta anonymise "
                     "check` runs: each turn alone, the rules over the transcript); '_raw' = without the "
                     "rules. From benchmarks/bench_pipeline.py."),
            **with_rules,
        },
        "scores_ud_test": pick_scores(test),
        "scores_ud_dev": pick_scores(dev),
        "words_per_second_one_core": int(wps),
        "size_on_disk_bytes": 0,
    })
    meta.pop("performance", None)
    meta["labels"] = {k: v for k, v in meta.get("labels", {}).items() if k != "trainable_lemmatizer"}
    (dest / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    size = dir_size(dest)
    meta["size_on_disk_bytes"] = size
    meta["size_on_disk_mb"] = round(size / 1e6, 2)
    (dest / "meta.json").write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps({k: meta[k] for k in ("scores_ud_test", "scores_ud_dev",
                                           "words_per_second_one_core", "size_on_disk_mb")}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
