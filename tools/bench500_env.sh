# The 500-class benchmark scripts' shared knobs (sourced): SIZE (48: 64×64 costs 2.2× more
# per image, beyond a CPU budget), EPOCHS (10), DEVICE (cpu), HCCR (.venv/bin/hccr),
# OMP_NUM_THREADS from THREADS (2); `has_data DIR`: DIR holds a data set (`hccr data synth`
# or `hccr data merge` output); `"$HCCR" "${SYNTH500[@]}" --out DIR` makes the benchmark's
# data: 500 classes × 24 training + 6 held-out writers (seed 500).
SIZE=${SIZE:-48}
EPOCHS=${EPOCHS:-10}
DEVICE=${DEVICE:-cpu}
HCCR=${HCCR:-.venv/bin/hccr}
export OMP_NUM_THREADS=${THREADS:-2}
SYNTH500=(data synth --classes 500 --per-class 24 --test-per-class 6 --seed 500 --workers 2)

has_data() {
  [ -f "$1/manifest.json" ] || [ -f "$1/merge.json" ]
}
