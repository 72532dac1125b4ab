#!/usr/bin/env bash
# effdl's runtime against ONNX Runtime, model by model, at 1 and 2 threads: one table of p50 latencies,
# the effdl/ORT ratio and effdl's 1→2-thread speedup, then the issue's targets with PASS/FAIL.
#
#   scripts/bench_runtime.sh [--iters N] [--warmup W] [--zoo DIR] [--models "resnet18 mobilenet_v2 ..."]
#                            [--effdl PATH]
#
#   --iters N     timed runs per measurement (default 50); --warmup W untimed runs first (default 5)
#   --zoo DIR     where scripts/make_zoo.py writes the zoo (default /tmp/effdl-zoo); missing zoo models
#                 are exported first
#   --models "…"  names (zoo: resnet18 mobilenet_v2 bert_like mlp_4x4096; bundled in models/: digits_cnn
#                 mlp text_classifier) or paths to .onnx files; default: all seven
#   --effdl PATH  the effdl binary (default build/effdl, or $EFFDL; built with scripts/setup.sh if missing)
#
# Each (model, threads) pair runs `effdl bench --json` and `node scripts/ort/ort_run.js bench --json`
# back to back; the order of the two alternates from model to model, to spread the noise. Both draw
# seeded random inputs (seed 0) with integer ids kept within their Gather tables (ORT: --int-high auto).
# Timings on this shared machine are noisy: read the ratios, which are measured side by side.
# A model effdl cannot run shows its one-line error in the row, and the targets it takes part in FAIL.
# Progress goes to stderr, the table to stdout.
#
# Exit codes: 0 every target passes, 1 some target fails, 2 usage or setup error.
set -euo pipefail
cd "$(dirname "$0")/.."

iters=50
warmup=5
zoo=/tmp/effdl-zoo
zoo_models=(resnet18 mobilenet_v2 bert_like mlp_4x4096)
bundled_models=(digits_cnn mlp text_classifier)
models=("${zoo_models[@]}" "${bundled_models[@]}")
effdl=${EFFDL:-build/effdl}
run_timeout=900 # seconds per single bench run: a hung run becomes an error row, not a hung script

usage() {
  sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}
die() {
  echo "bench_runtime: $*" >&2
  exit 2
}
posint() { if ! [[ $2 =~ ^[0-9]+$ ]] || (($2 < $3)); then die "$1 needs an integer >= $3 (got '$2')"; fi; }

while (($#)); do
  case $1 in
    --iters) (($# >= 2)) || usage; posint --iters "$2" 1; iters=$2; shift 2 ;;
    --warmup) (($# >= 2)) || usage; posint --warmup "$2" 0; warmup=$2; shift 2 ;;
    --zoo) (($# >= 2)) || usage; zoo=$2; shift 2 ;;
    --models) (($# >= 2)) || usage; read -r -a models <<<"$2"; shift 2 ;;
    --effdl) (($# >= 2)) || usage; effdl=$2; shift 2 ;;
    -h | --help) usage ;;
    *) echo "bench_runtime: unknown argument '$1'" >&2; usage ;;
  esac
done
((${#models[@]})) || die "--models is empty"

# --- resolve the models; export the zoo models that are missing
is_zoo() { local z; for z in "${zoo_models[@]}"; do [[ $1 == "$z" ]] && return 0; done; return 1; }
is_bundled() { local b; for b in "${bundled_models[@]}"; do [[ $1 == "$b" ]] && return 0; done; return 1; }
names=() paths=() missing_zoo=()
for m in "${models[@]}"; do
  if is_zoo "$m"; then
    p=$zoo/$m.onnx
    [[ -f $p ]] || missing_zoo+=("$m")
  elif is_bundled "$m"; then
    p=models/$m.onnx
  elif [[ $m == *.onnx ]]; then
    p=$m
    m=$(basename "$m" .onnx)
  else
    die "unknown model '$m' (zoo: ${zoo_models[*]}; bundled: ${bundled_models[*]}; or a path to a .onnx file)"
  fi
  names+=("$m") paths+=("$p")
done
if ((${#missing_zoo[@]})); then
  echo "bench_runtime: exporting ${missing_zoo[*]} into $zoo" >&2
  only=$(IFS=,; echo "${missing_zoo[*]}")
  scripts/make_zoo.py "$zoo" --only "$only" >&2
fi
for p in "${paths[@]}"; do [[ -f $p ]] || die "model file not found: $p"; done

# --- effdl and ORT
if [[ ! -x $effdl ]]; then
  [[ $effdl == build/effdl ]] || die "effdl binary not found: $effdl"
  echo "bench_runtime: build/effdl is missing: running scripts/setup.sh" >&2
  scripts/setup.sh >&2
  [[ -x $effdl ]] || die "scripts/setup.sh did not produce $effdl"
fi
"$effdl" --help 2>/dev/null | grep -q '^ *bench ' ||
  die "$effdl has no 'bench' command (an old build? rebuild it: cmake --build build)"
ort_version=$(node scripts/ort/ort_run.js check 2>/dev/null) ||
  die "ONNX Runtime is not usable (run scripts/ort/install.sh)"
loadavg() { cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"; }
load_start=$(loadavg)

# --- JSON: jq when there is one, else a small node snippet.
# jfield FILE PATH: the value at a dotted PATH (e.g. latency_ms.p50), or nothing if absent/null/not JSON.
if command -v jq >/dev/null 2>&1; then
  jfield() { jq -r ".$2 // empty" "$1" 2>/dev/null | head -n 1 || true; }
else
  jfield() {
    node -e '
      let v; try { v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); } catch (_) { process.exit(0); }
      for (const k of process.argv[2].split(".")) v = v == null ? undefined : v[k];
      if (v !== undefined && v !== null) console.log(typeof v === "object" ? JSON.stringify(v) : String(v));
    ' "$1" "$2" 2>/dev/null || true
  }
fi

tmp=$(mktemp -d /tmp/effdl-bench.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# run_one KIND MODEL THREADS → sets p50 (ms) or err (one line)
run_one() {
  local kind=$1 model=$2 threads=$3 out=$tmp/out.json errf=$tmp/err.txt rc=0
  p50="" err=""
  if [[ $kind == effdl ]]; then
    timeout "$run_timeout" "$effdl" bench "$model" --threads "$threads" --warmup "$warmup" --iters "$iters" \
      --json >"$out" 2>"$errf" || rc=$?
  else
    timeout "$run_timeout" node scripts/ort/ort_run.js bench "$model" --threads "$threads" --warmup "$warmup" \
      --iters "$iters" --random 0 --int-high auto --json >"$out" 2>"$errf" || rc=$?
  fi
  if [[ $(jfield "$out" ok) == true ]]; then
    p50=$(jfield "$out" latency_ms.p50)
  fi
  if [[ -z $p50 ]]; then
    local kind_s msg
    kind_s=$(jfield "$out" error.kind)
    msg=$(jfield "$out" error.message)
    if [[ -z $msg ]]; then
      if ((rc == 124)); then
        msg="timed out after ${run_timeout} s"
      else
        msg=$(grep -v '^[[:space:]]*$' "$errf" | tail -n 1 | sed 's/^effdl: //' || true)
        msg="exit code $rc${msg:+: $msg}"
      fi
    fi
    local label=$kind
    [[ $kind == ort ]] && label=ORT
    err="$label: ${kind_s:+$kind_s: }$(tr '\n\t' '  ' <<<"$msg" | sed 's/ *$//')"
  fi
}

# results by "model,threads"
declare -A eff_p50 ort_p50 eff_err ort_err
for i in "${!names[@]}"; do
  name=${names[$i]} path=${paths[$i]}
  if ((i % 2 == 0)); then order=(effdl ort); else order=(ort effdl); fi
  for t in 1 2; do
    for kind in "${order[@]}"; do
      echo "bench_runtime: $name, $t thread(s), $kind" >&2
      run_one "$kind" "$path" "$t"
      if [[ $kind == effdl ]]; then
        eff_p50[$name,$t]=$p50 eff_err[$name,$t]=$err
      else
        ort_p50[$name,$t]=$p50 ort_err[$name,$t]=$err
      fi
    done
  done
done

# --- table
fmt_ms() {
  [[ -n $1 ]] && awk -v x="$1" 'BEGIN { f = x < 1 ? "%.4f" : x < 100 ? "%.3f" : "%.1f"; printf f, x }' || echo "-"
}
ratio() { [[ -n $1 && -n $2 ]] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }' || echo "-"; }

lines=("model	threads	effdl p50 (ms)	ORT p50 (ms)	ratio effdl/ORT	effdl speedup 1→2 threads	notes")
for name in "${names[@]}"; do
  for t in 1 2; do
    e=${eff_p50[$name,$t]} o=${ort_p50[$name,$t]}
    speed="-"
    ((t == 2)) && speed=$(ratio "${eff_p50[$name,1]}" "$e")
    note=${eff_err[$name,$t]}
    if [[ -n ${ort_err[$name,$t]} ]]; then note=${note:+$note; }${ort_err[$name,$t]}; fi
    lines+=("$name	$t	$(fmt_ms "$e")	$(fmt_ms "$o")	$(ratio "$e" "$o")	$speed	$note")
  done
done
echo
echo "effdl: $effdl; ORT: ${ort_version%% (*}; $iters runs after $warmup warm-up per cell;" \
  "$(nproc) cores, 1-min load average $load_start at start, $(loadavg) at end (others' load skews the 2-thread rows)"
printf '%s\n' "${lines[@]}" | LC_ALL=C awk -F '\t' '
  function len(s) { return length(s) - 2 * gsub(/→/, "→", s) } # bytes (LC_ALL=C); "→" is 3 bytes, 1 column
  { n = NR; for (i = 1; i <= NF; i++) { cell[NR, i] = $i; if (len($i) > w[i]) w[i] = len($i) } nf = NF }
  END {
    for (r = 1; r <= n; r++) {
      line = ""
      for (i = 1; i <= nf; i++) {
        s = cell[r, i]; pad = w[i] - len(s)
        if (i == nf) { line = line s; break }
        # numbers right-aligned, names left-aligned
        if (i == 1) line = line s sprintf("%*s", pad, "") "  "
        else line = line sprintf("%*s", pad, "") s "  "
      }
      sub(/ +$/, "", line); print line
      if (r == 1) { # the notes column can be long: the rule stops at its header
        rule = ""; for (i = 1; i < nf; i++) rule = rule sprintf("%*s", w[i], "") "  "
        rule = rule sprintf("%*s", len(cell[1, nf]), ""); gsub(/ /, "-", rule); print rule }
    }
  }'
echo

# --- targets
t1_fail=() t1_ok=0
for name in "${names[@]}"; do
  e=${eff_p50[$name,1]} o=${ort_p50[$name,1]}
  if [[ -z $e ]]; then
    t1_fail+=("$name (effdl cannot run it)")
  elif [[ -z $o ]]; then
    t1_fail+=("$name (no ORT time)")
  elif awk -v a="$e" -v b="$o" 'BEGIN { exit !(a <= 1.2 * b) }'; then
    t1_ok=$((t1_ok + 1))
  else
    t1_fail+=("$name $(ratio "$e" "$o")")
  fi
done
if ((${#t1_fail[@]} == 0)); then
  target1="PASS (${t1_ok}/${#names[@]} models)"
else
  joined=$(IFS=$'\t'; echo "${t1_fail[*]}")
  target1="FAIL (${#t1_fail[@]}/${#names[@]} models: ${joined//$'\t'/, })"
fi
target2="FAIL (resnet18 not in --models)"
for name in "${names[@]}"; do
  [[ $name == resnet18 ]] || continue
  e1=${eff_p50[$name,1]} e2=${eff_p50[$name,2]}
  if [[ -z $e1 || -z $e2 ]]; then
    target2="FAIL (effdl cannot run resnet18)"
  elif awk -v a="$e1" -v b="$e2" 'BEGIN { exit !(b > 0 && a / b >= 1.6) }'; then
    target2="PASS ($(ratio "$e1" "$e2"))"
  else
    target2="FAIL ($(ratio "$e1" "$e2"))"
  fi
done
echo "targets: fp32 at 1 thread: effdl p50 <= 1.2x ORT p50 on every model: $target1;" \
  "resnet18 effdl 2-thread speedup >= 1.6x: $target2"
[[ $target1 == PASS* && $target2 == PASS* ]]
