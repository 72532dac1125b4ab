# The "<= 2x cp" reference of the tool-speed benchmarks (sourced, not run): `cp` of the model's
# files followed by `sync` of the copies (NOTES: effdl's save fsyncs, and a write with fsync costs
# ~2x a plain cp), twice, each right after the caller's `warm` (a read of the model into the page
# cache, as before every timed effdl run). The faster run is the reference: the stricter ratio.
# Usage: cp_best=$(cp_sync_seconds DEST_DIR FILE...)   each run is also printed on stderr.
cp_sync_seconds() {
  local dest=$1 best= i f t0 t1 secs
  shift
  local copies=()
  for f in "$@"; do copies+=("$dest/cp-timing.$(basename "$f")"); done
  for i in 1 2; do
    warm
    sync
    t0=$(date +%s.%N)
    for f in "$@"; do cp "$f" "$dest/cp-timing.$(basename "$f")"; done
    sync "${copies[@]}"
    t1=$(date +%s.%N)
    rm -f "${copies[@]}"
    secs=$(echo "$t1 - $t0" | bc -l)
    echo "cp + sync run $i: $secs s" >&2
    if [[ -z $best ]] || (( $(echo "$secs < $best" | bc -l) )); then best=$secs; fi
  done
  echo "$best"
}
