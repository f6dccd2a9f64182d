#!/usr/bin/env bash
# Reproduce the shipped Norwegian pipeline rta/models/nb_rta.
#
#   training/train.sh [RUN_NAME] [spacy train overrides ...]
#   e.g. training/train.sh run1
#        training/train.sh run3 --training.max_steps=12000
#
# Steps: convert NorNE -> training/corpus/*.spacy, train on one CPU thread, evaluate
# model-best on UD test and dev, copy it into rta/models/nb_rta with meta.json.
# Set SHIP=0 to train and evaluate without copying into rta/models; CONFIG=training/config.ner-own.cfg
# (or another config) to train an experiment; CORPUS=training/corpus_s1 N_SENTS=1 for other
# converted corpora (N_SENTS sentences per Doc). training/augment.py (mention swap) is always
# loaded with --code; only configs that name its augmenter use it.
set -euo pipefail
cd "$(dirname "$0")/.."
RUN="${1:-run}"; shift || true
PY="${PYTHON:-.venv/bin/python}"
[ -x "$PY" ] || PY=python
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1
OUT="training/output/$RUN"
mkdir -p "$OUT"

CORPUS="${CORPUS:-training/corpus}"
"$PY" training/convert.py --corpus "${NORNE:-../shared/data/norne}" --out "$CORPUS" \
    --n-sents "${N_SENTS:-10}" | tee "$OUT/convert.log"

start=$(date +%s)
"$PY" -m spacy train "${CONFIG:-training/config.cfg}" --output "$OUT" --gpu-id -1 \
    --code training/augment.py --paths.train "$CORPUS/train.spacy" --paths.dev "$CORPUS/dev.spacy" \
    "$@" 2>&1 | tee "$OUT/train.log"
end=$(date +%s)
echo "training seconds: $((end - start))" | tee -a "$OUT/train.log"

"$PY" -m spacy evaluate --code training/augment.py "$OUT/model-best" "$CORPUS/test.spacy" --gpu-id -1 --output "$OUT/test.json" | tee "$OUT/eval_test.log"
"$PY" -m spacy evaluate --code training/augment.py "$OUT/model-best" "$CORPUS/dev.spacy" --gpu-id -1 --output "$OUT/dev.json" | tee "$OUT/eval_dev.log"

if [ "${SHIP:-1}" = "1" ]; then
  "$PY" training/ship.py --model "$OUT/model-best" --test-scores "$OUT/test.json" \
      --dev-scores "$OUT/dev.json" --train-seconds "$((end - start))" --run "$RUN" \
      --config "${CONFIG:-training/config.cfg}"
  "$PY" -c "import spacy; nlp = spacy.load('rta/models/nb_rta'); print(nlp.pipe_names, [(e.text, e.label_) for e in nlp('Kari Nordmann flyttet fra Bergen til Oslo i fjor.').ents])"
fi
