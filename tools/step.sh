# Resumable steps for the long-run scripts (sourced): `step NAME COMMAND...` runs COMMAND
# with its output in $OUT/NAME.log unless $OUT/done/NAME exists, then writes its seconds
# there; a failed step prints its log's last lines and stops the script. A script that
# defines `after_step` has it called after every step that finishes.
step() {
  local name=$1 start=$SECONDS
  shift
  mkdir -p "$OUT/done"
  if [ -f "$OUT/done/$name" ]; then echo "$name: done ($(cat "$OUT/done/$name") s)"; return; fi
  echo "$name: running (log: $OUT/$name.log)"
  if ! "$@" > "$OUT/$name.log" 2>&1; then
    echo "error: step $name failed; see $OUT/$name.log" >&2
    tail -n 3 "$OUT/$name.log" >&2
    exit 1
  fi
  echo $((SECONDS - start)) > "$OUT/done/$name"
  echo "$name: finished in $((SECONDS - start)) s"
  if declare -F after_step > /dev/null; then after_step; fi
}
