#!/usr/bin/env bash
# The seed papers' ablations, one run folder per table row, on the 500-class benchmark:
#   seed 000 Table 2 (scenarios 0, 1, 2) and Table 4 (C-CBAM orders, rows 1-4; row 5 is
#   Scenario 2), Scenario 3 (ASFP on Scenario 1, blocks 7-20);
#   seed 004 Table 2 (final heads GWAP, GAP, FC; FC also with the paper's SGD, momentum 0.9,
#   lr 0.1 at batch 256 scaled to 0.025 at 64) and Table 3 (cascade trained staged / joint,
#   each exit's top-1 and the exit shares at threshold 0.98).
#
#   tools/seed_tables.sh [OUT] [ROW...]   (default OUT = runs/seed_tables, every row)
#
# Rows run one after the other; a finished row (metrics.json) is skipped and an interrupted
# one resumes from its checkpoint, so re-running the script continues where it stopped.
# tools/seed_tables_report.py OUT prints every row beside the paper's number.
# Knobs: SIZE (48), EPOCHS (10), DEVICE (cpu), THREADS (2), DATA (OUT/data; made with
# `hccr data synth` if missing: 500 classes × 24 training + 6 held-out writers).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/seed_tables}
shift || true
source tools/bench500_env.sh
DATA=${DATA:-$OUT/data}

declare -A ROWS=(
  [s000-t2-0]="--scenario 0"
  [s000-t2-1]="--scenario 1"
  [s000-t2-2]="--scenario 2"
  [s000-t4-1]="--arch sqnxt0 --attention 1,1,1"
  [s000-t4-2]="--arch sqnxt0 --attention 2,2,2"
  [s000-t4-3]="--arch sqnxt0 --attention 3,3,3"
  [s000-t4-4]="--arch sqnxt0 --attention 3,2,1"
  [s004-t2-gwap]="--arch fire-gwap --head gwap"
  [s004-t2-gap]="--arch fire-gwap --head gap"
  [s004-t2-fc]="--arch fire-gwap --head fc"
  [s004-t2-fc-slow]="--arch fire-gwap --head fc --lr 0.0005"
  [s004-t2-fc-sgd]="--arch fire-gwap --head fc --optimizer sgd --lr 0.025"
  [s004-t3-staged]="--arch fire-gwap-cascade --exit-training staged --label-smoothing 0"
  [s004-t3-joint]="--arch fire-gwap-cascade --exit-training joint --label-smoothing 0"
)
ORDER="s000-t2-0 s000-t2-1 s000-t2-2 s000-t4-1 s000-t4-2 s000-t4-3 s000-t4-4 s000-t2-3
s004-t2-gwap s004-t2-gap s004-t2-fc s004-t2-fc-slow s004-t2-fc-sgd s004-t3-staged s004-t3-joint"
SELECTED=${*:-$ORDER}

has_data "$DATA" || "$HCCR" "${SYNTH500[@]}" --out "$DATA"
for row in $SELECTED; do
  run="$OUT/$row"
  if [ -f "$run/metrics.json" ]; then
    echo "$row: done"
    continue
  fi
  echo "$row: running"
  if [ "$row" = s000-t2-3 ]; then  # Scenario 3: ASFP on the trained Scenario 1, fine-tuned
    # as `make prune500` does (Adam 0.0005, one epoch a round; SGD at 0.01 undoes the training)
    # Rounds are judged on writers Scenario 1 never saw (seed 501), not on a share of its own
    # training images (on those it scores 98.6 % against 94.4 % held out: every round rolled back).
    "$0" "$OUT" s000-t2-1
    has_data "$OUT/val_data" || "$HCCR" data synth --classes 500 --per-class 1 \
      --test-per-class 2 --seed 501 --workers 1 --out "$OUT/val_data"
    "$HCCR" prune --method asfp --from "$OUT/s000-t2-1" --scope stage3 --optimizer adam \
      --lr 0.0005 --epochs 1 --x 0.1 --target 0.5 --final-epochs 0 --device "$DEVICE" \
      --train-data "$DATA/train" --test-data "$DATA/test" --val-data "$OUT/val_data/test" \
      --run "$run" --resume >> "$OUT/$row.log" 2>&1
    continue
  fi
  [ -n "${ROWS[$row]:-}" ] || { echo "error: unknown row $row" >&2; exit 1; }
  mkdir -p "$run"
  # shellcheck disable=SC2086  # the row's options are words
  # The row's options come last: they override the defaults (s004-t2-fc-slow's --lr).
  "$HCCR" train --size "$SIZE" --epochs "$EPOCHS" --batch-size 64 --optimizer adam --lr 0.002 \
    --seed 0 --device "$DEVICE" --train-data "$DATA/train" --test-data "$DATA/test" \
    --run "$run" --resume ${ROWS[$row]} > "$run/log.txt" 2>&1
  if [[ "$row" == s004-t3-* ]]; then
    "$HCCR" eval --run "$run" --data "$DATA/test" --json > "$run/eval.json"
  fi
done
