#!/usr/bin/env bash
# The seed 004 early-exit cascade on 100 synthetic classes (issue 7): trains
# fire-gwap-cascade at 64×64 without label smoothing (it would cap the softmax below the 0.98
# exit threshold), then `hccr eval` prints the exit distribution, accuracy and MACs.
#
#   tools/cascade100.sh [OUT]        (default OUT = runs/cascade100)
#
# OUT/data: 100 classes × 30 training writers + 10 held-out writers (seed 100); OUT/train:
# checkpoint.pt, model.pt, metrics.json; OUT/eval.json. Knobs: EPOCHS (10), THREADS (1).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/cascade100}
EPOCHS=${EPOCHS:-10}
HCCR=${HCCR:-.venv/bin/hccr}

if [ ! -f "$OUT/data/manifest.json" ]; then
  "$HCCR" data synth --out "$OUT/data" --classes 100 --per-class 30 --test-per-class 10 \
    --seed 100 --workers 2
fi
OMP_NUM_THREADS=${THREADS:-1} "$HCCR" train --arch fire-gwap-cascade --size 64 \
  --epochs "$EPOCHS" --batch-size 64 --optimizer adam --lr 0.002 --label-smoothing 0 --seed 0 \
  --train-data "$OUT/data/train" --test-data "$OUT/data/test" --run "$OUT/train" --resume
"$HCCR" eval --run "$OUT/train" --data "$OUT/data/test" --json > "$OUT/eval.json"
"$HCCR" eval --run "$OUT/train" --data "$OUT/data/test"
