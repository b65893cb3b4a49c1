#!/usr/bin/env bash
# The seed papers' multi-step procedures, one run folder per step, on the 500-class benchmark:
#   seed 002: cnn9 → GSLRE 4x → ADW + CRA → k-means clustering (each step's top-1 and MB),
#             and the expanded network trained directly (Table 1's weaker baseline);
#   seed 001: ECA-ResNet56 teacher, ECA-ResNet18, slimmed 0.4 / 0.6, each distilled (T = 5);
#   seed 003: cnn9 with an FC bottleneck of 50, distilled from cnn9 without / with SP loss
#             (μ, β, λ = 0.8, 0.2, 0.1 at T = 1).
#
#   tools/seed_chains.sh [OUT] [STEP...]   (default OUT = runs/seed_chains, every step)
#
# A step whose run folder holds metrics.json is skipped; a training or distillation step
# resumes from its checkpoint (saved after every epoch), any other step starts over. A step runs the steps it starts from first.
# Knobs: SIZE (48), EPOCHS (10), TUNE (2, epochs of each pruning/clustering/distillation
# step), DEVICE (cpu), THREADS (2), DATA (OUT/data; `hccr data synth` if missing: 500
# classes x 24 training + 6 held-out writers, or `hccr data merge` output for CASIA),
# DRY (1: print the commands, run nothing).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/seed_chains}
shift || true
TUNE=${TUNE:-2}
source tools/bench500_env.sh
DATA=${DATA:-$OUT/data}
ORDER="s002-cnn9 s002-direct s002-gslre s002-adw s002-cluster s001-teacher s001-student
s001-slim-0.4 s001-slim-0.6 s001-kd-0.4 s001-kd-0.6 s003-b50 s003-kd s003-kd-sp"
SP_PAIRS=(--sp-pair prelu3,prelu4_2:prelu3,prelu4_2 --sp-pair prelu4_2,prelu5_2:prelu4_2,prelu5_2)

run() {  # print, then run unless DRY
  echo "+ $*"
  if [ "${DRY:-0}" != 1 ]; then "$@"; fi
}

step() {  # the command of one step: STEP → its hccr arguments (the --run comes last)
  local d=(--train-data "$DATA/train" --test-data "$DATA/test" --device "$DEVICE")
  local tr=(train "${d[@]}" --size "$SIZE" --epochs "$EPOCHS" --resume)
  case $1 in
    s002-cnn9) echo "${tr[@]} --arch cnn9" ;;
    s002-direct) echo "${tr[@]} --arch cnn9-gslre" ;;
    s002-gslre) echo "compress gslre --from $OUT/s002-cnn9 ${d[*]} --speedup 4" ;;
    s002-adw) echo "prune --method adw --from $OUT/s002-gslre ${d[*]} --epochs $TUNE" ;;
    s002-cluster) echo "compress cluster --from $OUT/s002-adw ${d[*]} --bits 5 --epochs $TUNE" ;;
    s001-teacher) echo "${tr[@]} --arch eca-resnet56" ;;
    s001-student) echo "${tr[@]} --arch eca-resnet18" ;;
    s001-slim-*) echo "prune --method slimming --ratio ${1#s001-slim-} --from $OUT/s001-student \
${d[*]} --epochs $TUNE --sparsity-epochs $TUNE" ;;
    s001-kd-*) echo "distill --resume --teacher $OUT/s001-teacher --student \
$OUT/s001-slim-${1#s001-kd-} ${d[*]} --epochs $TUNE --temperature 5" ;;
    s003-b50) echo "${tr[@]} --arch cnn9 --bottleneck 50" ;;
    s003-kd) echo "distill --resume --teacher $OUT/s002-cnn9 --student $OUT/s003-b50 --reinit ${d[*]} \
--epochs $EPOCHS --temperature 1 --alpha 0.8 --beta 0.2" ;;
    s003-kd-sp) echo "distill --resume --teacher $OUT/s002-cnn9 --student $OUT/s003-b50 --reinit ${d[*]} \
--epochs $EPOCHS --temperature 1 --alpha 0.8 --beta 0.2 --sp-weight 0.1 ${SP_PAIRS[*]}" ;;
    *) echo "error: unknown step $1 (steps: $(echo $ORDER))" >&2; exit 1 ;;
  esac
}

needs() {  # the run folders a step starts from
  step "$1" | grep -o -- "--\(from\|teacher\|student\) $OUT/[^ ]*" | sed "s|.* $OUT/||"
}

do_step() {
  local name=$1 args
  args=$(step "$name")
  if [ -f "$OUT/$name/metrics.json" ]; then
    echo "$name: done"
    return
  fi
  local dep
  for dep in $(needs "$name"); do do_step "$dep"; done
  echo "$name: running"
  case $args in train* | *--resume*) ;; *) run rm -rf "$OUT/$name" ;; esac
  # shellcheck disable=SC2086  # the step's arguments are split on purpose
  run "$HCCR" $args --run "$OUT/$name"
}

has_data "$DATA" || run "$HCCR" "${SYNTH500[@]}" --out "$DATA"
for name in ${*:-$ORDER}; do do_step "$name"; done
