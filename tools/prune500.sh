#!/usr/bin/env bash
# Issue 9 on the 500-class benchmark, from tools/bench500.sh's trained sqnxt-ccbam run:
# ASFP on blocks 7-20 (target ≥ 50 % of their parameters), slimming at 0.4 and 0.6 (and 0.6
# again with widths rounded to multiples of 8), ADW + CRA with 5-bit k-means clustering, and
# the ASFP-pruned architecture trained from fresh weights with the unpruned network as teacher
# vs alone (same epochs). Finished steps (metrics.json present) are skipped.
#
#   tools/prune500.sh [BENCH]      (default BENCH = runs/bench500; results in BENCH/prune/)
#
# Knobs: EPOCHS (fine-tuning epochs per stage, 2), ROUND_EPOCHS (per ASFP round, 1),
# STUDENT_EPOCHS (distillation, 3), DEVICE (cpu or cuda).
set -euo pipefail
cd "$(dirname "$0")/.."
BENCH=${1:-runs/bench500}
OUT=$BENCH/prune
EPOCHS=${EPOCHS:-2}
ROUND_EPOCHS=${ROUND_EPOCHS:-1}
STUDENT_EPOCHS=${STUDENT_EPOCHS:-3}
DEVICE=${DEVICE:-cpu}
HCCR=${HCCR:-.venv/bin/hccr}
TEACHER=$BENCH/sqnxt-ccbam
DATA=(--train-data "$BENCH/data/train" --test-data "$BENCH/data/test" --device "$DEVICE")
TUNE=(--epochs "$EPOCHS" --optimizer adam --lr 0.0005)
mkdir -p "$OUT"

step() {  # step NAME COMMAND...: run unless NAME already has metrics.json
  local name=$1; shift
  if [ -f "$OUT/$name/metrics.json" ]; then echo "$name: done"; return; fi
  "$@" --run "$OUT/$name" 2>&1 | tee "$OUT/$name.log"
}

# ASFP: every accepted round ends fine-tuned and removal keeps the function, so no final
# fine-tune (a 2-epoch one-cycle fine-tune after round 11 took 98.87 % down to 98.17 %).
step asfp "$HCCR" prune --method asfp --from "$TEACHER" "${DATA[@]}" --optimizer adam \
  --lr 0.0005 --epochs "$ROUND_EPOCHS" --scope stage3 --x 0.1 --target 0.5 --final-epochs 0
for ratio in 0.4 0.6; do
  step "slimming$ratio" "$HCCR" prune --method slimming --ratio "$ratio" --from "$TEACHER" \
    "${DATA[@]}" "${TUNE[@]}" --sparsity-epochs "$EPOCHS"
done
# Slimming 0.6 slimmed again by 0.1 (no new sparsity epochs) with every width rounded to a
# multiple of 8, the PE lanes of the layer-sequential plan: its shapes.json is
# bench/data/sqnxt_ccbam_slim_x8_shapes.json (issue 8's pruned model).
step slimming0.6_x8 "$HCCR" prune --method slimming --ratio 0.1 --channel-multiple 8 \
  --from "$OUT/slimming0.6" "${DATA[@]}" "${TUNE[@]}" --sparsity-epochs 0
step adw "$HCCR" prune --method adw --from "$TEACHER" "${DATA[@]}" "${TUNE[@]}" --cluster-bits 5 --cra-mode magnitude
step distill "$HCCR" distill --teacher "$TEACHER" --student "$OUT/asfp" --reinit "${DATA[@]}" \
  --epochs "$STUDENT_EPOCHS" --optimizer adam --lr 0.002 --compare
.venv/bin/python tools/prune_report.py "$OUT"
