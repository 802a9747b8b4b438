#!/usr/bin/env bash
# Rerun array tasks of a sweep submitted with submit.sh (killed by scancel, a node failure or a time limit) and
# let the merge job wait for them again:
#   scripts/cluster/slurm/requeue.sh OUTDIR TASK_ID...
# Each task is requeued (`scontrol requeue ARRAY_TASK`; it continues its part file: the settings it finished are
# skipped). SLURM marks the merge job's `afterok:ARRAY` dependency as never satisfied as soon as one task fails,
# and a requeue does not revive it, so the merge job's dependency is reset to afterok on every task of the array.
# SLURM holds a requeued job until its credential expires (AuthInfo cred_expire, 120 s by default).
set -euo pipefail
if [ $# -lt 2 ]; then
  sed -n '2,4p' "$0" >&2
  exit 2
fi
outdir=$1
shift
[ -f "$outdir/jobs.env" ] || { echo "requeue.sh: no $outdir/jobs.env (written by submit.sh)" >&2; exit 2; }
# shellcheck disable=SC1091
. "$outdir/jobs.env"
for t in "$@"; do
  [[ $t =~ ^[0-9]+$ ]] && [ "$t" -lt "$SHARDS" ] || { echo "requeue.sh: task $t is not in 0…$((SHARDS - 1))" >&2; exit 2; }
  scontrol requeue "${ARRAY}_$t"
done
dep=afterok
for ((t = 0; t < SHARDS; t++)); do dep+=":${ARRAY}_$t"; done
scontrol update jobid="$MERGE" dependency="$dep"
echo "requeued ${*/#/${ARRAY}_}; merge job $MERGE now waits on $dep"
