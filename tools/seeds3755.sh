#!/usr/bin/env bash
# Seed 000's pipeline on all 3755 GB2312 level-1 classes (`make seeds3755`): synthetic data,
# Scenario 2 (sqnxt-ccbam) trained, pruned twice (ASFP on every stage as the seed does; BN
# slimming with every width a multiple of 8 for the layer-sequential engine), int8 QAT with
# power-of-two scales, exported to the IR and scored by the golden model on every held-out
# image; tools/seeds3755_report.py prints the table. Every step is skipped when its complete
# output exists, so a stopped run resumes where it stopped (training resumes per epoch).
#
#   tools/seeds3755.sh [OUT]         (default OUT = runs/seeds3755)
#
# Knobs: SIZE (48: 64×64 costs 2.2× more per image, beyond a CPU budget; say which in the
# table), EPOCHS (10), TUNE_EPOCHS (2, per pruning fine-tune and per ASFP round), QAT_EPOCHS
# (1), WRITERS (24 training writers per class), TEST_WRITERS (6, never seen in training),
# CLASSES (3755; fewer for a quick check), DEVICE (cpu or cuda), NICE (19), THREADS (2).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/seeds3755}
SIZE=${SIZE:-48}
EPOCHS=${EPOCHS:-10}
TUNE_EPOCHS=${TUNE_EPOCHS:-2}
QAT_EPOCHS=${QAT_EPOCHS:-1}
DEVICE=${DEVICE:-cpu}
export OMP_NUM_THREADS=${THREADS:-2}
HCCR=(nice -n "${NICE:-19}" "${HCCR:-.venv/bin/hccr}")
DATA=(--train-data "$OUT/data/train" --test-data "$OUT/data/test")
mkdir -p "$OUT"

done_when() {  # done_when FILE NAME: true (and says so) when NAME's output FILE exists
  if [ -f "$1" ]; then echo "$2: done ($1)"; return 0; fi
  echo "$2: running (log: $OUT/$2.log)"; return 1
}

done_when "$OUT/data/manifest.json" data ||
  "${HCCR[@]}" data synth --out "$OUT/data" --classes "${CLASSES:-3755}" \
    --per-class "${WRITERS:-24}" --test-per-class "${TEST_WRITERS:-6}" --seed 3755 \
    --workers "${THREADS:-2}" --overwrite > "$OUT/data.log" 2>&1
done_when "$OUT/float/metrics.json" float ||
  "${HCCR[@]}" train --arch sqnxt-ccbam --size "$SIZE" --epochs "$EPOCHS" --batch-size 64 \
    --optimizer adam --lr 0.002 --seed 0 --device "$DEVICE" "${DATA[@]}" --run "$OUT/float" \
    --resume > "$OUT/float.log" 2>&1
done_when "$OUT/asfp/metrics.json" asfp ||
  "${HCCR[@]}" prune --method asfp --from "$OUT/float" "${DATA[@]}" --device "$DEVICE" \
    --optimizer adam --lr 0.0005 --epochs "$TUNE_EPOCHS" --x 0.1 --target 0.5 \
    --final-epochs 0 --run "$OUT/asfp" > "$OUT/asfp.log" 2>&1
done_when "$OUT/slim_x8/metrics.json" slim_x8 ||
  "${HCCR[@]}" prune --method slimming --ratio 0.6 --channel-multiple 8 --from "$OUT/float" \
    "${DATA[@]}" --device "$DEVICE" --optimizer adam --lr 0.0005 --epochs "$TUNE_EPOCHS" \
    --sparsity-epochs "$TUNE_EPOCHS" --run "$OUT/slim_x8" > "$OUT/slim_x8.log" 2>&1
for run in float asfp slim_x8; do
  done_when "$OUT/$run/int8/qat_metrics.json" "$run-qat" ||
    "${HCCR[@]}" quantize --run "$OUT/$run" "${DATA[@]}" --pot --epochs "$QAT_EPOCHS" \
      --out "$OUT/$run/int8" > "$OUT/$run-qat.log" 2>&1
  done_when "$OUT/$run/ir/model.json" "$run-export" ||
    "${HCCR[@]}" export --qat "$OUT/$run/int8" --out "$OUT/$run/ir" --name "seeds3755_$run" \
      > "$OUT/$run-export.log" 2>&1
  done_when "$OUT/$run/golden.npz" "$run-golden" ||
    "${HCCR[@]}" golden --ir "$OUT/$run/ir" --data "$OUT/data/test" --outputs-only \
      --out "$OUT/$run/golden.npz" > "$OUT/$run-golden.log" 2>&1
done
.venv/bin/python tools/seeds3755_report.py "$OUT"
