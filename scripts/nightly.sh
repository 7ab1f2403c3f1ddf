#!/usr/bin/env bash
# Nightly: runs the nightly matrix, writes its reports, gates it against the committed baseline.
#
#   bash scripts/nightly.sh [--first-run] [-- BENCH FLAGS ...]
#
# Exit code: the gate's: 0 pass, 1 a gate failed, 2 unusable input, 3 too few repetitions to decide. Before any
# measuring, 2 when results/baselines/<matrix>.json is missing, unless --first-run (or SLUICE_NIGHTLY_FIRST_RUN=1)
# asks to create it from this run: then nothing is gated, the baseline is written (and copied into the run folder
# as baseline.json, for CI's artifact) and the exit is 0; commit the file. A bench that could not run (2 bad input,
# 130 interrupted) passes its code on; one with failed cells (1) still goes to the gate, which names them.
# Environment: SLUICE_NIGHTLY_MATRIX (a name in workloads/matrices/, default nightly; its baseline is named by
# the file's name:, the same for every shipped matrix), SLUICE_NIGHTLY_OUT (default results), SLUICE_BASELINES
# (default results/baselines), SLUICE_PUSHGATEWAY (a pushgateway URL: the bench pushes each cell's summary there
# with --push, the gate's lines drawn against the baseline, for the Nightly trends dashboard). Under GitHub Actions
# the run folder goes to $GITHUB_OUTPUT as run_dir.
set -uo pipefail
cd "$(dirname "$0")/.."

matrix=${SLUICE_NIGHTLY_MATRIX:-nightly}
out=${SLUICE_NIGHTLY_OUT:-results}
baselines=${SLUICE_BASELINES:-results/baselines}
first_run=${SLUICE_NIGHTLY_FIRST_RUN:-0}
bench_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --first-run) first_run=1 ;;
    --) shift; bench_args=("$@"); break ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "nightly: unknown argument $1 (expected --first-run, or -- and flags for the bench)" >&2; exit 2 ;;
  esac
  shift
done
baseline="$baselines/$matrix.json"
if [ -n "${SLUICE_PUSHGATEWAY:-}" ]; then
  bench_args+=(--push "$SLUICE_PUSHGATEWAY")
  if [ -f "$baseline" ]; then bench_args+=(--baseline "$baseline"); fi
fi
step() { echo "== nightly: $*" >&2; }

create=0
if [ ! -f "$baseline" ]; then
  if [ "$first_run" != 1 ]; then
    echo "nightly: no baseline at $baseline, so there is nothing to gate against." >&2
    echo "nightly: create it from a first run: SLUICE_NIGHTLY_FIRST_RUN=1 bash scripts/nightly.sh (or --first-run), then commit $baseline" >&2
    exit 2
  fi
  create=1
  step "no baseline at $baseline: this first run will create it (nothing is gated)"
elif [ "$first_run" = 1 ]; then
  step "a baseline exists at $baseline: --first-run ignored, gating as usual"
fi

# One line per cell on stderr (the bench draws a status line only on a terminal), so a CI log shows where it is.
step "bench: matrix $matrix -> $out (one line per cell)"
npm run -s bench -- --matrix "$matrix" --out "$out" ${bench_args[@]+"${bench_args[@]}"}
bench_rc=$?
case $bench_rc in
  0) ;;
  1) step "some cells failed; the gate will name them" ;;
  *) echo "nightly: the bench exited $bench_rc; nothing to gate" >&2; exit "$bench_rc" ;;
esac
run_dir="$out/$(readlink "$out/latest")"
if [ -n "${GITHUB_OUTPUT:-}" ]; then echo "run_dir=$run_dir" >>"$GITHUB_OUTPUT"; fi
step "run folder: $run_dir"

if [ "$create" = 1 ]; then
  npm run -s gate -- --update-baseline "$run_dir" --baselines "$baselines" || exit 2
  cp "$baseline" "$run_dir/baseline.json"
  step "baseline written to $baseline (and $run_dir/baseline.json): commit it; the next nightly gates against it"
  exit 0
fi

step "compare with $baseline -> $run_dir/compare.md"
npm run -s compare -- "$baseline" "$run_dir" >"$run_dir/compare.md" || step "compare failed (the gate says why)"
step "gate against $baseline -> $run_dir/gate.md"
npm run -s gate -- --baseline "$baseline" "$run_dir" >"$run_dir/gate.md"
gate_rc=$?
cat "$run_dir/gate.md"
step "gate exit code $gate_rc (0 pass, 1 failed, 2 unusable input, 3 not enough repetitions)"
exit "$gate_rc"
