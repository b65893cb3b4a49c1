#!/usr/bin/env bash
# The opt-in full-size run of issue 7: a seed network trained on all 3755 GB2312 level-1
# classes (`make train-full`). Hours on a GPU, days on a CPU.
#
#   tools/train_full.sh [OUT]        (default OUT = runs/full)
#
# Data: TRAIN_DATA/TEST_DATA (.gnt folders, e.g. CASIA-HWDB1.1) or, when unset, a synthetic
# set of 3755 classes × 40 training + 10 held-out writers in OUT/data. Knobs: ARCH
# (sqnxt-ccbam), SIZE (64), EPOCHS (30), BATCH (256), LR (0.002), DEVICE (cpu or cuda), NPROC
# (processes per node: >1 runs DDP under torchrun, one GPU each with DEVICE=cuda; for several
# nodes run this with NNODES, NODE_RANK and MASTER_ADDR set on each). Re-running resumes.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/full}
PY=${PY:-.venv/bin/python}
NPROC=${NPROC:-1}
if [ -z "${TRAIN_DATA:-}" ]; then
  if [ ! -f "$OUT/data/manifest.json" ]; then
    "$PY" -m flow.cli data synth --out "$OUT/data" --classes 3755 --per-class 40 \
      --test-per-class 10 --seed 3755
  fi
  TRAIN_DATA=$OUT/data/train
  TEST_DATA=$OUT/data/test
fi
ARGS=(train --arch "${ARCH:-sqnxt-ccbam}" --size "${SIZE:-64}" --epochs "${EPOCHS:-30}"
      --batch-size "${BATCH:-256}" --optimizer adam --lr "${LR:-0.002}" --device "${DEVICE:-cpu}"
      --train-data "$TRAIN_DATA" --test-data "${TEST_DATA:?set TEST_DATA with TRAIN_DATA}"
      --run "$OUT/train" --resume)
if [ "$NPROC" -gt 1 ] || [ -n "${NNODES:-}" ]; then
  RDZV=(--standalone)
  [ -n "${NNODES:-}" ] && RDZV=(--nnodes "$NNODES" --node-rank "${NODE_RANK:?}"
                                 --master-addr "${MASTER_ADDR:?}" --master-port "${MASTER_PORT:-29500}")
  # `--` keeps torchrun from parsing the hccr options (it would read --run as its own).
  exec "$PY" -m torch.distributed.run "${RDZV[@]}" --nproc-per-node "$NPROC" -m flow.cli -- "${ARGS[@]}"
fi
exec "$PY" -m flow.cli "${ARGS[@]}"
