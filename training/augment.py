"""Mention-swap augmentation for the NER of nb_rta (loaded with `spacy train --code`).

Why: the NER learns the names it has seen. Names in interviews (and in UD test) are mostly
names it has not seen, so it has to read them from the context and their shape. Replacing
entity mentions in training documents by other mentions of the same type (mention
replacement, Dai & Adel 2020, "An Analysis of Simple Data Augmentation for Named Entity
Recognition") makes the same context carry many different names, and a name stop being a
reliable cue on its own.

Every training document passes through the augmenter once per epoch; each mention is swapped
with probability `level` for a mention of the same label drawn from the training corpus
(each distinct mention text counted once). The swapped-in tokens bring their own UPOS and
lemma; tokens outside mentions keep theirs. Uses Python's `random`, which spaCy seeds from
`[system] seed`, so a run is reproducible.
"""

from __future__ import annotations

import random
from collections import defaultdict
from pathlib import Path
from typing import Callable, Iterator

from spacy.language import Language
from spacy.tokens import Doc, DocBin
from spacy.training import Example
from spacy.util import registry
from spacy.vocab import Vocab

# (words, spaces inside the mention, pos, lemmas)
Mention = tuple[tuple[str, ...], tuple[bool, ...], tuple[str, ...], tuple[str, ...]]


def mention_bank(path: Path) -> dict[str, list[Mention]]:
    """Distinct entity mentions in a DocBin, per label, in corpus order."""
    bank: dict[str, list[Mention]] = defaultdict(list)
    seen: set[tuple[str, tuple[str, ...]]] = set()
    for doc in DocBin().from_disk(path).get_docs(Vocab()):
        for ent in doc.ents:
            words = tuple(t.text for t in ent)
            if (ent.label_, words) in seen:
                continue
            seen.add((ent.label_, words))
            bank[ent.label_].append((
                words,
                tuple(bool(t.whitespace_) for t in ent),
                tuple(t.pos_ for t in ent),
                tuple(t.lemma_ for t in ent),
            ))
    return dict(bank)


def swap_mentions(doc: Doc, bank: dict[str, list[Mention]], level: float,
                  rng: random.Random | None = None) -> Doc | None:
    """A copy of `doc` with some mentions swapped, or None if nothing was swapped."""
    rng = rng or random
    words: list[str] = []
    spaces: list[bool] = []
    pos: list[str] = []
    lemmas: list[str] = []
    ents: list[str] = []
    starts: list[bool] = []
    swapped = False
    i = 0
    ent_at = {e.start: e for e in doc.ents}
    while i < len(doc):
        ent = ent_at.get(i)
        choices = bank.get(ent.label_) if ent is not None else None
        if ent is not None and choices and rng.random() < level:
            w, sp, p, lem = rng.choice(choices)
            words += w
            spaces += list(sp[:-1]) + [bool(doc[ent.end - 1].whitespace_)]
            pos += p
            lemmas += lem
            ents += [f"B-{ent.label_}"] + [f"I-{ent.label_}"] * (len(w) - 1)
            starts += [bool(doc[i].is_sent_start)] + [False] * (len(w) - 1)
            swapped = True
            i = ent.end
            continue
        t = doc[i]
        words.append(t.text)
        spaces.append(bool(t.whitespace_))
        pos.append(t.pos_)
        lemmas.append(t.lemma_)
        ents.append(f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O")
        starts.append(bool(t.is_sent_start))
        i += 1
    if not swapped:
        return None
    return Doc(doc.vocab, words=words, spaces=spaces, pos=pos, lemmas=lemmas, ents=ents,
               sent_starts=starts)


@registry.augmenters("rta.mention_swap.v1")
def create_mention_swap(path: str, level: float) -> Callable[[Language, Example], Iterator[Example]]:
    """Augmenter: swap each mention with probability `level` (0 = off)."""
    bank = mention_bank(Path(path))

    def augment(nlp: Language, example: Example) -> Iterator[Example]:
        new = swap_mentions(example.reference, bank, level) if level > 0 else None
        if new is None:
            yield example
        else:
            yield Example(nlp.make_doc(new.text), new)

    return augment
