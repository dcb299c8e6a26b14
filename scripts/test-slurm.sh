#!/usr/bin/env bash
# make test-slurm: brings up a single-node Slurm on localhost (Debian's slurm-wlm and munge,
# installed when missing), submits experiments/smoke.toml with scripts/slurm/submit.sh (a job
# array plus an afterok collect job), waits, checks the collected folder against a local run
# (`twinnet verify --against`: parameters bit for bit, JSON apart from timings), and stops
# exactly the daemons it started (by their PIDs), whatever happens.
#
# Needs root (Slurm's daemons and munge), as CI has. Usage: scripts/test-slurm.sh [TWINNET]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
twinnet=$(realpath "${1:-$here/target/release/twinnet}")
[ -x "$twinnet" ] || { echo "error: $twinnet not built (make build)" >&2; exit 1; }
if [ "$(id -u)" != 0 ]; then
    echo "error: make test-slurm runs Slurm's daemons and munge, which needs root" >&2
    exit 1
fi
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
    echo "test-slurm: installing slurm-wlm and munge"
    apt-get install -y -q slurm-wlm munge >/dev/null 2>&1 || {
        apt-get update -qq && apt-get install -y -q slurm-wlm munge >/dev/null
    }
fi

t=$(mktemp -d /tmp/twinnet-slurm.XXXXXX)
pids=()
cleanup() {
    local rc=$?
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null || true
    done
    if [ $rc -ne 0 ]; then
        echo "test-slurm: failed; daemon logs:" >&2
        tail -n 20 "$t"/*.log >&2 2>/dev/null || true
    fi
    rm -rf "$t"
    exit $rc
}
trap cleanup EXIT INT TERM

host=$(hostname -s)
cores=$(nproc)
mkdir -p "$t/state" "$t/spool" "$t/munge"
chmod 700 "$t/munge"
head -c 1024 /dev/urandom >"$t/munge/munge.key"
chmod 400 "$t/munge/munge.key"
socket="$t/munge/munge.socket"
cat >"$t/slurm.conf" <<CONF
ClusterName=twinnet-test
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$t/state
SlurmdSpoolDir=$t/spool
SlurmctldPidFile=$t/slurmctld.pid
SlurmdPidFile=$t/slurmd.pid
SlurmctldLogFile=$t/slurmctld.log
SlurmdLogFile=$t/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=$host CPUs=$cores State=UNKNOWN
PartitionName=twinnet Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$t/slurm.conf"

munged --foreground --force --key-file="$t/munge/munge.key" --socket="$socket" \
    --pid-file="$t/munge/munged.pid" --seed-file="$t/munge/munged.seed" \
    --log-file="$t/munged.log" >"$t/munged.out" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$socket" ] && break; sleep 0.1; done
slurmctld -D -f "$t/slurm.conf" >"$t/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$t/slurm.conf" >"$t/slurmd.out" 2>&1 &
pids+=($!)
up=0
for _ in $(seq 100); do
    if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then up=1; break; fi
    sleep 0.2
done
[ $up = 1 ] || { echo "error: the single-node Slurm did not come up" >&2; exit 1; }
echo "test-slurm: Slurm $(sinfo -V | cut -d' ' -f2) up on $host ($cores CPUs)"

# Once a task per run (--index env), once every run in one task (--shard).
submit_and_check() { # OUT RUNS_PER_TASK
    local out=$1 ids collect
    ids=$(RUNS_PER_TASK=$2 TWINNET="$twinnet" "$here/scripts/slurm/submit.sh" "$here/experiments/smoke.toml" "$out")
    echo "test-slurm: submitted: $ids"
    collect=$(echo "$ids" | sed -E 's/.*collect ([0-9]+).*/\1/')
    for _ in $(seq 600); do
        [ -z "$(squeue -h 2>/dev/null)" ] && break
        # A failed array task leaves the collect job waiting for ever: fail now.
        if squeue -h -j "$collect" -o %r 2>/dev/null | grep -q DependencyNeverSatisfied; then
            echo "error: an array task failed, so the collect job ($collect) cannot run; task logs:" >&2
            tail -n 20 "$out"/logs/* >&2 || true
            return 1
        fi
        sleep 0.5
    done
    [ -z "$(squeue -h)" ] || { echo "error: jobs still queued after 5 minutes" >&2; squeue >&2; return 1; }
    [ -f "$out/summary.md" ] || {
        echo "error: the collect job ($collect) wrote no summary; task logs:" >&2
        tail -n 20 "$out"/logs/* >&2 || true
        return 1
    }
    # The collected folder against a fresh local run of the same experiment.
    (cd "$here" && "$twinnet" verify experiments/smoke.toml --against "$out" --quiet)
}
submit_and_check "$t/smoke" 1
submit_and_check "$t/smoke-sharded" 2
echo "test-slurm: passed (array + collect on Slurm equal a local run)"
