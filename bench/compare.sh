#!/usr/bin/env bash
# Side-by-side benchmark of pyro-rs against Pyro and NumPyro on the workloads of
# ../shared/bench/WORKLOADS.md (copied to bench/README.md), on this machine.
#
#   bench/compare.sh                      # everything, RUNS=3 alternations
#   VENV=/work/venv-peers RUNS=1 bench/compare.sh
#   WORKLOADS="coin logreg" bench/compare.sh
#
# Environment:
#   VENV        peer virtual environment (default .venv-peers); created with
#               bench/peers/install_peers.sh when missing (about 6 GB, 3 minutes)
#   RUNS        alternations: ours, Pyro, NumPyro, ours, Pyro, NumPyro, ... (default 3)
#   WORKLOADS   subset of "coin logreg vae-digits hmm nuts" (default all); workloads whose pyro-rs
#               example is missing are skipped, the peers too
#   MNIST=1     also run vae-mnist (ours only; no peer script) when MNIST is found
#   MNIST_EPOCHS  epochs for vae-mnist (default 1)
#   PEERS_FULL=1  run every peer variant (Pyro hmm without and with JIT, all NumPyro hmm
#               variants: several extra minutes)
#   THREADS     threads each side may use (default 1): Pyro's torch.set_num_threads, NumPyro's
#               XLA CPU intra-op threads, pyro-rs's MATMUL_NUM_THREADS. On a machine shared with
#               other jobs use 1: torch's 2 OpenMP threads then spin and its VAE epoch went from
#               71 ms (1 thread) to 2.5 s (2 threads) here. THREADS=2 on a quiet 2-core machine
#               matches the figures of bench/README.md.
#   OUT         raw output folder (default bench/out/DATE)
#   RESULTS     summary file (default bench/RESULTS.md)
#
# Every command prints one JSON line (ours: one per variant); they are kept under $OUT together
# with the load average before each command, and bench/summarize.py (stdlib only) turns them into
# $RESULTS: medians over the alternations, time ratios ours/theirs, accuracy side by side.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
VENV=${VENV:-.venv-peers}
RUNS=${RUNS:-3}
WORKLOADS=${WORKLOADS:-"coin logreg vae-digits hmm nuts"}
MNIST=${MNIST:-0}
MNIST_EPOCHS=${MNIST_EPOCHS:-1}
PEERS_FULL=${PEERS_FULL:-0}
THREADS=${THREADS:-1}
export MATMUL_NUM_THREADS=$THREADS
if [ "$THREADS" = 1 ]; then
    export XLA_FLAGS="${XLA_FLAGS:-} --xla_cpu_multi_thread_eigen=false"
fi
OUT=${OUT:-bench/out/$(date -u +%Y%m%dT%H%M%SZ)}
RESULTS=${RESULTS:-bench/RESULTS.md}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
PEERS=bench/peers

log() { echo "[compare $(date -u +%H:%M:%S)] $*" >&2; }

# ---- (a) peer environment -------------------------------------------------------------------
if [ ! -x "$VENV/bin/python" ]; then
    log "no peer venv at $VENV: creating it (bench/peers/install_peers.sh, about 6 GB)"
    VENV="$VENV" bash "$PEERS/install_peers.sh"
fi
PY="$VENV/bin/python"
"$PY" -c "import torch, pyro, numpyro, jax" || { log "peer venv $VENV is broken"; exit 1; }

# ---- (b) build ours ---------------------------------------------------------------------------
examples=()
for f in examples/bench_*.rs; do
    [ -e "$f" ] && examples+=(--example "$(basename "$f" .rs)")
done
if [ ${#examples[@]} -gt 0 ]; then
    log "cargo build --release ${examples[*]}"
    cargo build --release --quiet "${examples[@]}"
fi
BIN="$TARGET/release/examples"
have() { [ -x "$BIN/$1" ]; }

mkdir -p "$OUT"
{
    echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
    echo "git: $(git rev-parse --short HEAD 2>/dev/null || echo '?')$(git diff --quiet 2>/dev/null || echo ' (dirty)')"
    echo "rustc: $(rustc -V)"
    echo "nproc: $(nproc)"
    echo "uptime_start: $(uptime)"
    echo "runs: $RUNS"
    echo "threads: $THREADS"
} >"$OUT/meta.txt"

# run SIDE WORKLOAD RUN COMMAND...: one command, its stdout JSON lines into $OUT.
run() {
    local side=$1 workload=$2 r=$3
    shift 3
    local file="$OUT/${workload}__${side}__${r}.jsonl"
    log "$workload $side run $r (load $(cut -d' ' -f1-3 /proc/loadavg))"
    echo "{\"_loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\"}" >"$file"
    if ! "$@" 2>"$OUT/${workload}__${side}__${r}.err" | grep '^{' >>"$file"; then
        log "  failed: see $OUT/${workload}__${side}__${r}.err"
    fi
}

if [ "$PEERS_FULL" = 1 ]; then
    COIN_PYRO=(--variant loop --variant plate --variant loop_noval --variant plate_noval --variant plate_jit)
    LOGREG_PYRO=(--variant default --variant noval)
    HMM_PYRO=(--variant default --variant jit)
    HMM_NUMPYRO=(--variant scan_pyloop --variant scan_fused --variant markov_pyloop --variant markov_fused)
else
    COIN_PYRO=(--variant loop --variant plate)
    LOGREG_PYRO=(--variant default)
    HMM_PYRO=(--variant default)
    # The markov variants: NumPyro's scan-based HMM gives a wrong enumerated loss (see the
    # docstring of peers/hmm_numpyro.py); PEERS_FULL=1 runs it too, for its speed only.
    HMM_NUMPYRO=(--variant markov_pyloop --variant markov_fused)
fi

# ---- (c) alternate ours / Pyro / NumPyro, RUNS times -----------------------------------------
for r in $(seq 1 "$RUNS"); do
    for w in $WORKLOADS; do
        case $w in
        coin)
            have bench_coin || { log "skip coin: no examples/bench_coin.rs"; continue; }
            run ours coin "$r" "$BIN/bench_coin" --runs 1
            run pyro coin "$r" "$PY" $PEERS/coin_pyro.py --runs 1 --threads "$THREADS" "${COIN_PYRO[@]}"
            run numpyro coin "$r" "$PY" $PEERS/coin_numpyro.py --runs 1
            ;;
        logreg)
            have bench_logreg || { log "skip logreg: no examples/bench_logreg.rs"; continue; }
            run ours logreg "$r" "$BIN/bench_logreg"
            run pyro logreg "$r" "$PY" $PEERS/logreg_pyro.py --runs 1 --threads "$THREADS" "${LOGREG_PYRO[@]}"
            run numpyro logreg "$r" "$PY" $PEERS/logreg_numpyro.py --runs 1
            ;;
        vae-digits)
            have bench_vae || { log "skip vae-digits: no examples/bench_vae.rs"; continue; }
            if [ "$MNIST" = 1 ] && [ "$r" = 1 ]; then
                run ours vae "$r" "$BIN/bench_vae" --epochs "$MNIST_EPOCHS"
            else
                run ours vae "$r" "$BIN/bench_vae" --skip-mnist
            fi
            run pyro vae "$r" "$PY" $PEERS/vae_pyro.py --runs 1 --threads "$THREADS"
            run numpyro vae "$r" "$PY" $PEERS/vae_numpyro.py --runs 1
            ;;
        hmm)
            have bench_hmm || { log "skip hmm: no examples/bench_hmm.rs"; continue; }
            run ours hmm "$r" "$BIN/bench_hmm"
            run pyro hmm "$r" "$PY" $PEERS/hmm_pyro.py --runs 1 --threads "$THREADS" "${HMM_PYRO[@]}"
            run numpyro hmm "$r" "$PY" $PEERS/hmm_numpyro.py --runs 1 "${HMM_NUMPYRO[@]}"
            ;;
        nuts)
            # NUTS, 4 chains x (1000 + 1000), eight-schools and logreg. Ours: one thread (chains
            # one after the other, as NumPyro's chain_method="sequential"), then 4 threads.
            have bench_nuts || { log "skip nuts: no examples/bench_nuts.rs"; continue; }
            run ours nuts "$r" "$BIN/bench_nuts"
            run numpyro nuts "$r" "$PY" $PEERS/nuts_numpyro.py
            ;;
        *) log "unknown workload $w" ;;
        esac
    done
done

# Tensor-engine micro-benchmarks: once, reported as they are.
if have bench_engine; then
    run ours engine 1 "$BIN/bench_engine"
fi

echo "uptime_end: $(uptime)" >>"$OUT/meta.txt"

# ---- (d) summary ------------------------------------------------------------------------------
# summarize.py needs only the standard library: any python3 does, the venv's as a fallback.
SUMPY=$(command -v python3 || echo "$PY")
"$SUMPY" bench/summarize.py "$OUT" >"$RESULTS"
log "wrote $RESULTS (raw output in $OUT)"
