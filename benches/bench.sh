#!/usr/bin/env bash
# Scale benchmark (issue 5): `benches/bench.sh [SIZE] [RUNS]`, e.g. `benches/bench.sh 2G 3`.
#
# Generates a bundle of about SIZE bytes of text (benches/gen.rs: SIPStack traces, Exchange IM
# logs, Application event XML, configuration captures, plus SIZE/20 of copies of the real .evtx
# samples from ../shared/data/evtx) outside the repository, then prints, per input kind: bytes,
# records, and for `imtriage events`, `imtriage analyze` and the baselines (`rg -c -F -f NEEDLES`,
# NEEDLES generated from the catalog by `gen needles`; `evtx_dump -o jsonl` for .evtx) the median
# wall time of RUNS warm-cache runs, MB/s, records/s and peak memory (/usr/bin/time -v "Maximum
# resident set size"), then 1-thread vs N-thread scaling. Output is a Markdown table.
#
# Environment: THREADS (default nproc), BENCH_DIR (default $TMPDIR/imtriage-bench-SIZE),
# SHARED_DATA (default ../shared/data), CARGO_TARGET_DIR (default target).
set -euo pipefail
SIZE=${1:-2G}
RUNS=${2:-3}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
THREADS=${THREADS:-$(nproc)}
OUT=${BENCH_DIR:-${TMPDIR:-/tmp}/imtriage-bench-$SIZE}
SHARED=${SHARED_DATA:-$ROOT/../shared/data}
TOOLS=$CARGO_TARGET_DIR/tools

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
need_apt() { # command package
  command -v "$1" >/dev/null 2>&1 && return 0
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "$2" >/dev/null
}
[ -x /usr/bin/time ] || need_apt /usr/bin/time time
need_apt rg ripgrep
if [ ! -x "$TOOLS/bin/evtx_dump" ]; then
  cargo install --quiet evtx --version 0.15.1 --locked --root "$TOOLS" >&2
fi
EVTX_DUMP=$TOOLS/bin/evtx_dump

cargo build --quiet --release
cargo build --quiet --release --example gen
BIN=$CARGO_TARGET_DIR/release/imtriage
GEN=$CARGO_TARGET_DIR/release/examples/gen

mkdir -p "$OUT"
"$GEN" needles "$OUT/needles.txt"
if [ ! -f "$OUT/manifest.tsv" ] || [ "$(cat "$OUT/size" 2>/dev/null)" != "$SIZE" ]; then
  rm -rf "$OUT/text" "$OUT/evtx"
  "$GEN" bundle "$OUT" "$SIZE" "$SHARED/evtx" >/dev/null
  echo "$SIZE" > "$OUT/size"
fi
cd "$OUT"

# median of RUNS runs: prints "seconds max_rss_kb" of the median-time run.
measure() {
  local t rows=()
  "$@" >/dev/null 2>&1 || true # warm-up (page cache)
  for _ in $(seq "$RUNS"); do
    t=$(mktemp)
    /usr/bin/time -v -o "$t" "$@" >/dev/null 2>/dev/null || true
    rows+=("$(awk -F': ' '/Elapsed \(wall clock\)/{n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]} /Maximum resident/{m=$2} END{printf "%.3f %d\n", s, m}' "$t")")
    rm -f "$t"
  done
  printf '%s\n' "${rows[@]}" | sort -n | awk -v n="$RUNS" 'NR==int((n+1)/2)'
}

bytes_of() { find "$@" -type f -printf '%s\n' | awk '{s+=$1} END{printf "%.0f\n", s}'; }
# records present = parsed + rejected of a full parse (the summary of `analyze --full-parse`).
records_of() { # (analyze exits 1 when it has findings)
  { "$BIN" analyze --full-parse --output jsonl -j "$THREADS" "$@" || true; } | grep '"type":"summary"' |
    sed -E 's/.*"records":([0-9]+),"records_rejected":([0-9]+).*/\1 \2/' | awk '{print $1 + $2}'
}
evtx_all() { for f in evtx/*.evtx; do "$EVTX_DUMP" -t "$THREADS" -o jsonl "$f"; done; }
export -f evtx_all
export EVTX_DUMP THREADS

echo "## imtriage scale benchmark: $SIZE bundle, median of $RUNS runs, $THREADS threads"
echo
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), nproc $(nproc), $(free -h | awk '/Mem:/{print $2}') RAM; $(uname -sr); $("$BIN" --version)"
echo
echo "| input | bytes | records | tool | median s | MB/s | records/s | peak RSS MB |"
echo "|---|---:|---:|---|---:|---:|---:|---:|"
row() { # kind bytes records tool "s rss"
  read -r s rss <<<"$5"
  awk -v k="$1" -v b="$2" -v r="$3" -v t="$4" -v s="$s" -v m="$rss" 'BEGIN{
    mbs = (s > 0) ? b / 1e6 / s : 0; rs = (s > 0 && r ~ /^[0-9]+$/) ? sprintf("%.0f", r / s) : "-";
    printf "| %s | %.0f | %s | %s | %.2f | %.1f | %s | %.0f |\n", k, b, r, t, s, mbs, rs, m / 1024 }'
}
while IFS=$'\t' read -r kind path _ _; do
  b=$(bytes_of "$path")
  r=$(records_of "$path")
  row "$kind" "$b" "$r" "imtriage events" "$(measure "$BIN" events -j "$THREADS" "$path")"
  row "$kind" "$b" "$r" "imtriage analyze" "$(measure "$BIN" analyze -q -j "$THREADS" "$path")"
  row "$kind" "$b" "$r" "rg -c -F -f NEEDLES" "$(measure rg -c -F -f needles.txt -j "$THREADS" "$path")"
  if [ "$kind" = evtx ]; then
    row "$kind" "$b" "$r" "evtx_dump -o jsonl" "$(measure bash -c evtx_all)"
  fi
done < manifest.tsv
b=$(bytes_of text)
r=$(records_of text)
row "text bundle" "$b" "$r" "imtriage events" "$(measure "$BIN" events -j "$THREADS" text)"
row "text bundle" "$b" "$r" "imtriage analyze" "$(measure "$BIN" analyze -q -j "$THREADS" text)"
row "text bundle" "$b" "$r" "rg -c -F -f NEEDLES" "$(measure rg -c -F -f needles.txt -j "$THREADS" text)"
row "text bundle" "$b" "$r" "imtriage analyze -j 1" "$(measure "$BIN" analyze -q -j 1 text)"
row "text bundle" "$b" "$r" "imtriage events -j 1" "$(measure "$BIN" events -j 1 text)"
row "text bundle" "$b" "$r" "imtriage analyze --full-parse" "$(measure "$BIN" analyze -q --full-parse -j "$THREADS" text)"
# Memory when the bundle doubles: the same files given twice (2x the bytes and records).
row "text bundle x2" "$((2 * b))" "$((2 * r))" "imtriage analyze" "$(measure "$BIN" analyze -q -j "$THREADS" text text)"
row "text bundle x2" "$((2 * b))" "$((2 * r))" "rg -c -F -f NEEDLES" "$(measure rg -c -F -f needles.txt -j "$THREADS" text text)"
echo
echo "Findings on the text bundle (planted: one Front End rejection, one OWA event 101):"
"$BIN" analyze -q --output jsonl -j "$THREADS" text | grep '"type":"finding"' | grep -o '"id":"[^"]*","title":"[^"]*"' | sort | uniq -c || true
