"""Loading the Norwegian spaCy pipeline the NLP assistant reads transcripts with.

Order of preference (``[nlp] pipeline = "auto"`` in rta.toml):

1. ``nb_core_news_lg``, ``_md``, ``_sm`` when installed as packages (best accuracy);
2. the pipeline bundled with rta (``rta/models/nb_rta``, trained on NDT/NorNE) when present;
3. the embedded default: ``spacy.blank("nb")`` + sentencizer + a lookup lemmatizer whose table
   is built from ``spacy-lookups-data`` (its tiny ``nb_lemma_lookup`` plus the large
   ``nb_lemma_exc`` form -> lemma lists, so inflected forms such as ``forventningene`` reach
   ``forventning``).

A project may pin a pipeline: a package name, a folder path (relative to the project), or
``embedded``. spaCy is imported only here, lazily, and each pipeline is loaded once per process.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rta.errors import RtaError

PACKAGES = ("nb_core_news_lg", "nb_core_news_md", "nb_core_news_sm")
BUNDLED = "nb_rta"
EMBEDDED = "embedded"
# Components the matcher never needs: switched off to read faster.
UNUSED_COMPONENTS = ("ner", "rta_entity_consistency", "entity_ruler", "entity_linker", "textcat", "textcat_multilabel")
BETTER_HINT = (
    "for better lemmas and sentences install a Norwegian spaCy pipeline: "
    "python -m spacy download nb_core_news_sm (needs network once), or pin one in rta.toml [nlp] pipeline"
)


@dataclass(frozen=True)
class PipelineInfo:
    """What read the text: recorded with every suggestion so results can be traced to it."""

    name: str
    version: str
    components: tuple[str, ...]
    source: str  # 'package' | 'bundled' | 'path' | 'embedded'
    scores: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)
    path: str | None = None

    @property
    def label(self) -> str:
        """``name@version``: the string stored in ``suggestions.pipeline``."""
        return f"{self.name}@{self.version}"


def is_installed(package: str) -> bool:
    """True when a spaCy pipeline package is importable (no loading)."""
    import spacy.util

    return bool(spacy.util.is_package(package))


def bundled_path() -> Path:
    from rta.resources import models_dir

    return models_dir() / BUNDLED


def _is_pipeline_dir(path: Path) -> bool:
    return (path / "meta.json").is_file() and (path / "config.cfg").is_file()


def choose_pipeline(pin: str = "auto", root: Path | None = None) -> tuple[str, str]:
    """Decide which pipeline to load without loading it: ``(source, name-or-path)``."""
    pin = (pin or "auto").strip()
    if pin.lower() in (EMBEDDED, "blank", "default"):
        return EMBEDDED, EMBEDDED
    if pin.lower() != "auto":
        candidate = Path(pin).expanduser()
        if not candidate.is_absolute() and root is not None:
            candidate = root / candidate
        if _is_pipeline_dir(candidate):
            return "path", str(candidate.resolve())
        if pin == BUNDLED and _is_pipeline_dir(bundled_path()):
            return "bundled", str(bundled_path())
        if is_installed(pin):
            return "package", pin
        raise RtaError(
            f"the pipeline '{pin}' pinned in rta.toml is neither an installed spaCy package nor a pipeline folder",
            path=(root / "rta.toml") if root else None,
            hint="set [nlp] pipeline = \"auto\", install it (python -m spacy download " + pin + "), or give a folder with meta.json",
        )
    for package in PACKAGES:
        if is_installed(package):
            return "package", package
    if _is_pipeline_dir(bundled_path()):
        return "bundled", str(bundled_path())
    return EMBEDDED, EMBEDDED


@functools.cache
def lemma_table() -> dict[str, str]:
    """Form -> lemma for Norwegian Bokmål from spacy-lookups-data (once per process).

    ``nb_lemma_lookup`` alone has ~1,600 entries; the exception lists (``nb_lemma_exc``) hold
    ~600,000 inflected forms. On a form shared by several parts of speech, noun wins, then
    verb, adjective, adverb (codebook indicators are mostly nouns)."""
    return _lexicon()[0]


# Part of speech of a form in the lexicon: one of these, or AMBIGUOUS.
LEXICON_POS = ("noun", "verb", "adj", "adv")
AMBIGUOUS = -1


def lemma_pos() -> dict[str, int]:
    """Form -> index into :data:`LEXICON_POS` for forms the lexicon knows under one part of
    speech with one lemma, :data:`AMBIGUOUS` for the others (``klart``/``klarte`` are both
    adjective and verb forms of ``klare``; ``får`` is the noun and the verb). Phrase indicators
    compare lemmas only between unambiguous forms (rta.matcher), so a lemma that merges two
    different words never joins them."""
    return _lexicon()[1]


@functools.cache
def _lexicon() -> tuple[dict[str, str], dict[str, int]]:
    import gzip
    import os
    import pickle

    try:
        import spacy_lookups_data
        from importlib.metadata import version
    except ImportError:  # pragma: no cover - dependency of rta
        return {}, {}
    data = Path(spacy_lookups_data.__file__).parent / "data"
    cache_root = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rta"
    # pickle: about 0.5 s to load here, marshal took 1.2-2 s for the same 590,000 pairs
    cache = cache_root / f"nb_lexicon-2-{version('spacy-lookups-data')}.pickle"
    try:
        with open(cache, "rb") as fh:
            cached = pickle.load(fh)
        if isinstance(cached, tuple) and len(cached) == 2 and cached[0]:
            return cached
    except (OSError, ValueError, EOFError, TypeError, pickle.UnpicklingError):
        pass
    table: dict[str, str] = {}
    pos_of: dict[str, int] = {}
    exc_path = data / "nb_lemma_exc.json.gz"
    if exc_path.is_file():
        with gzip.open(exc_path, "rt", encoding="utf-8") as fh:
            exc = json.load(fh)
        for k, pos in enumerate(LEXICON_POS):
            for form, lemmas in exc.get(pos, {}).items():
                if not lemmas or " " in form:
                    continue
                if form not in table:
                    table[form] = lemmas[0]
                    pos_of[form] = k if len(set(lemmas)) == 1 else AMBIGUOUS
                else:
                    pos_of[form] = AMBIGUOUS
    lookup_path = data / "nb_lemma_lookup.json.gz"
    if lookup_path.is_file():
        with gzip.open(lookup_path, "rt", encoding="utf-8") as fh:
            for form, lemma in json.load(fh).items():
                table.setdefault(form, lemma)
    try:  # a derived cache only (rebuilt when missing); never needed for correctness
        from rta.fsutil import atomic_write_bytes  # type: ignore[attr-defined]

        cache_root.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(cache, pickle.dumps((table, pos_of), protocol=pickle.HIGHEST_PROTOCOL))
    except Exception:
        pass
    return table, pos_of


def embedded_pipeline():
    """``spacy.blank("nb")`` + sentencizer + lookup lemmatizer (tables from spacy-lookups-data)."""
    import spacy
    from spacy.lookups import Lookups

    nlp = spacy.blank("nb")
    nlp.add_pipe("sentencizer")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    lookups = Lookups()
    lookups.set_table("lemma_lookup", _string_table("lemma_lookup", lemma_table()))
    lemmatizer.initialize(lookups=lookups)
    return nlp


def _string_table(name: str, data: dict[str, str]):
    """A spaCy lookups Table read by string, without hashing 600,000 keys up front (that
    alone takes seconds); falls back to the lower-case form so a sentence-initial
    ``Forventningene`` finds ``forventning`` too."""
    from spacy.lookups import Table

    class StringTable(Table):
        def __init__(self) -> None:
            super().__init__(name=name)
            self._data = data

        def get(self, key, default=None):  # type: ignore[override]
            if isinstance(key, str):
                found = data.get(key)
                if found is None and not key.islower():
                    found = data.get(key.lower())
                return default if found is None else found
            return default

        def __contains__(self, key) -> bool:  # type: ignore[override]
            return isinstance(key, str) and (key in data or key.lower() in data)

        def __len__(self) -> int:
            return len(data)

    return StringTable()


def _versions() -> str:
    import spacy

    try:
        from importlib.metadata import version

        lookups = version("spacy-lookups-data")
    except Exception:  # pragma: no cover
        lookups = "none"
    return f"spacy-{spacy.__version__}+lookups-{lookups}"


def _scores(meta: dict[str, Any]) -> dict[str, Any]:
    """Accuracy figures from a pipeline's meta.json (spaCy's ``performance`` or rta's own)."""
    scores: dict[str, Any] = {}
    for key in ("performance", "scores_ud_test", "accuracy"):
        block = meta.get(key)
        if isinstance(block, dict):
            for name, value in block.items():
                if isinstance(value, (int, float)) and name in (
                    "upos_acc", "pos_acc", "lemma_acc", "morph_acc", "ents_f", "ents_p", "ents_r",
                    "sents_f", "dep_uas", "dep_las", "tag_acc",
                ):
                    scores[name] = value
            if scores:
                scores["set"] = key
                break
    rules = (meta.get("ner_with_consistency_rules") or {}).get("ud_test") or {}
    # sentence by sentence + rta.entities over the whole article (as over a transcript), or
    # over 10 sentences in metas written before article scores existed
    for mode in ("article_sent", "sent"):
        if isinstance(rules.get(mode), dict) and isinstance(rules[mode].get("f"), (int, float)):
            scores["ents_f_with_rules"] = rules[mode]["f"]
            break
    return scores


def load_from(source: str, target: str):
    """Load the pipeline ``choose_pipeline`` picked; returns ``(nlp, PipelineInfo)``."""
    if source == EMBEDDED:
        nlp = embedded_pipeline()
        info = PipelineInfo("nb_blank_lookup", _versions(), tuple(nlp.pipe_names), EMBEDDED, {})
        return nlp, info
    import spacy

    try:
        nlp = spacy.load(target, exclude=[c for c in UNUSED_COMPONENTS])
    except Exception as exc:  # a broken or incompatible pipeline: say which and what to do
        raise RtaError(
            f"could not load the spaCy pipeline '{target}': {exc}",
            hint="pin another one in rta.toml [nlp] pipeline (e.g. \"embedded\") or reinstall it",
        ) from None
    if not any(name in nlp.pipe_names for name in ("parser", "senter", "sentencizer")):
        nlp.add_pipe("sentencizer")
    meta = nlp.meta or {}
    info = PipelineInfo(
        name=str(meta.get("name") and (meta.get("lang", "nb") + "_" + meta["name"]
                                       if not str(meta["name"]).startswith(meta.get("lang", "nb") + "_")
                                       else meta["name"]) or target),
        version=str(meta.get("version", "0")),
        components=tuple(nlp.pipe_names),
        source=source,
        scores=_scores(meta),
        path=target if source in ("bundled", "path") else None,
    )
    return nlp, info


@functools.cache
def _load_cached(source: str, target: str):
    import gc

    loaded = load_from(source, target)
    # The pipeline, its vocab and the lemma table live as long as the process: move them out
    # of the collector's generations so later collections do not rescan them each time.
    gc.freeze()
    return loaded


def load_pipeline(pin: str = "auto", root: Path | None = None):
    """The pipeline for a project (``(nlp, PipelineInfo)``), loaded once per process."""
    source, target = choose_pipeline(pin, root)
    return _load_cached(source, target)


def describe(pin: str = "auto", root: Path | None = None) -> PipelineInfo:
    """PipelineInfo for ``rta doctor`` (loads the pipeline, so the components are real)."""
    return load_pipeline(pin, root)[1]
