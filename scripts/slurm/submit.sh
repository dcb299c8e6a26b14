#!/usr/bin/env bash
# Submits an experiment to Slurm as a job array (one task per run, its index from
# SLURM_ARRAY_TASK_ID) plus a collect job that runs once every task succeeded (afterok), all
# writing into one shared results folder. Prints the two job ids.
#
# Usage: scripts/slurm/submit.sh EXPERIMENT.toml OUT_DIR [twinnet run flags, e.g. --seeds 0..10]
#
# Environment: TWINNET (the twinnet binary, default: twinnet on PATH), SBATCH_FLAGS (extra
# sbatch options, e.g. "--partition=cpu --time=01:00:00"), RUNS_PER_TASK (default 1: with K,
# each task runs a shard of K runs, --shard, as Slurm's docs advise for short jobs). The jobs
# inherit this shell's environment (sbatch's default --export=ALL), so TWINNET_DATA_DIR and
# TWINNET_CACHE reach them. OUT_DIR must be on a file system every node sees.
set -euo pipefail
if [ $# -lt 2 ]; then
    echo "usage: $0 EXPERIMENT.toml OUT_DIR [twinnet run flags]" >&2
    exit 2
fi
exp=$1
out=$2
shift 2
twinnet=${TWINNET:-twinnet}
per=${RUNS_PER_TASK:-1}
n=$("$twinnet" plan "$exp" --count "$@")
mkdir -p "$out/logs"
extra=""
if [ $# -gt 0 ]; then extra=" $(printf '%q ' "$@")"; fi
if [ "$per" -le 1 ]; then
    tasks=$n
    select_run='--index env'
else
    tasks=$(( (n + per - 1) / per ))
    # Task K of T runs every T-th run from K.
    select_run="--shard \$SLURM_ARRAY_TASK_ID/$tasks"
fi
# shellcheck disable=SC2086 # SBATCH_FLAGS holds several options
array=$(sbatch --parsable ${SBATCH_FLAGS:-} --job-name=twinnet --array=0-$((tasks - 1)) \
    --output="$out/logs/%A_%a.out" \
    --wrap="exec $(printf '%q' "$twinnet") run $(printf '%q' "$exp") $select_run --out $(printf '%q' "$out") --quiet${extra}")
# shellcheck disable=SC2086
collect=$(sbatch --parsable ${SBATCH_FLAGS:-} --job-name=twinnet-collect \
    --dependency=afterok:"${array%%;*}" --output="$out/logs/collect-%j.out" \
    --wrap="exec $(printf '%q' "$twinnet") collect $(printf '%q' "$out")")
echo "array ${array%%;*} ($tasks tasks for $n runs), collect ${collect%%;*}"
