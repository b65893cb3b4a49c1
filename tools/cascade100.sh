#!/usr/bin/env bash
# Seed 004's early-exit cascade on 100 synthetic classes, trained as the paper does it and
# taken to the layer-sequential engine's RTL: fire-gwap-cascade at 64×64 without label
# smoothing (it would cap the softmax below the 0.98 exit threshold), staged training (the
# final output first, then the exits on the frozen base), int8 QAT with power-of-two scales
# (the xc7z020 engine is shift-only), the integer exit rule's agreement with the float
# cascade (tools/exit_agreement.py), and `bench.bench_exit` (golden vs RTL, (class, exit)
# per image, cycles with early exit against always-full) at seed 004's threshold 0.98 and at
# 0.5 with Mid-B as an exit of its own (exits at every point).
#
#   tools/cascade100.sh [OUT]        (default OUT = runs/cascade100)
#
# OUT/data: 100 classes × 30 training writers + 10 held-out writers (seed 100); OUT/train:
# the float run; OUT/qat: qat.pt; OUT/STEP.log (agreement.log: one JSON line per threshold);
# build/bench/exit.json.
# A finished step leaves OUT/done/STEP and is skipped when the script runs again.
# Knobs: EPOCHS (10), EXIT_EPOCHS (5), THREADS (2), IMAGES (100, RTL images per threshold).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/cascade100}
PY=${PY:-.venv/bin/python}
HCCR=(nice -n 19 "${HCCR:-.venv/bin/hccr}")
export OMP_NUM_THREADS=${THREADS:-2} PYTHONPATH=${PYTHONPATH:-.}
DATA=(--train-data "$OUT/data/train" --test-data "$OUT/data/test")
source tools/step.sh

step data "${HCCR[@]}" data synth --out "$OUT/data" --classes 100 --per-class 30 \
  --test-per-class 10 --seed 100 --workers "${THREADS:-2}" --overwrite
step train "${HCCR[@]}" train --arch fire-gwap-cascade --size 64 --epochs "${EPOCHS:-10}" \
  --exit-training staged --exit-epochs "${EXIT_EPOCHS:-5}" --batch-size 64 --optimizer adam \
  --lr 0.002 --label-smoothing 0 --seed 0 "${DATA[@]}" --run "$OUT/train" --resume
step eval "${HCCR[@]}" eval --run "$OUT/train" --data "$OUT/data/test"
step qat "${HCCR[@]}" quantize --run "$OUT/train" "${DATA[@]}" --pot --epochs 1 --lr 0.0005 \
  --out "$OUT/qat"
step agreement nice -n 19 "$PY" tools/exit_agreement.py "$OUT/qat" "$OUT/data/test" \
  --thresholds 0.98,0.9,0.5
step bench_098 nice -n 19 "$PY" -m bench.bench_exit --qat "$OUT/qat" --data "$OUT/data/test" \
  --threshold 0.98 --mid-b exit --images "${IMAGES:-100}"
step bench_050 nice -n 19 "$PY" -m bench.bench_exit --qat "$OUT/qat" --data "$OUT/data/test" \
  --threshold 0.5 --mid-b exit --images "${IMAGES:-100}"
cat "$OUT/eval.log" "$OUT/agreement.log"
tail -n 1 "$OUT/bench_098.log" "$OUT/bench_050.log"
