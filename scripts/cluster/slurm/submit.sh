#!/usr/bin/env bash
# Submit a sharded sweep as a SLURM job array and its merge as a job that starts after every task succeeded.
#   scripts/cluster/slurm/submit.sh SPEC OUTDIR SHARDS [sbatch options for the array, e.g. --gres=gpu:1 -p gpu]
# Prints "ARRAY_JOB_ID MERGE_JOB_ID" (and keeps them in OUTDIR/jobs.env for requeue.sh). The environment (BACKEND, REQUIRE_HARDWARE, SAMPLESCOPE) goes to the jobs;
# SAMPLESCOPE defaults to this checkout's bin/samplescope.mjs under the node on PATH. Logs go to OUTDIR.
set -euo pipefail
if [ $# -lt 3 ]; then
  sed -n '2,5p' "$0" >&2
  exit 2
fi
spec=$(realpath "$1")
outdir=$2
shards=$3
shift 3
[[ $shards =~ ^[1-9][0-9]*$ ]] || { echo "submit.sh: SHARDS must be a positive integer, got $shards" >&2; exit 2; }
[ -f "$spec" ] || { echo "submit.sh: no spec $spec" >&2; exit 2; }
mkdir -p "$outdir"
outdir=$(realpath "$outdir")
here=$(cd "$(dirname "$0")" && pwd)
# SHARDS: the tasks check it against SLURM_ARRAY_TASK_COUNT (--shard auto/SHARDS), so a task resubmitted alone
# (sbatch --array=3: a one-task array) fails instead of running the whole sweep as shard 0/1
export SPEC=$spec OUTDIR=$outdir SHARDS=$shards
export SAMPLESCOPE=${SAMPLESCOPE:-"$(command -v node) $(realpath "$here/../../../bin/samplescope.mjs")"}
array=$(sbatch --parsable --array="0-$((shards - 1))${THROTTLE:+%$THROTTLE}" --chdir="$outdir" \
  --output="$outdir/sweep-%A_%a.out" "$@" "$here/sweep-array.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable --dependency="afterok:$array" --kill-on-invalid-dep=no --chdir="$outdir" \
  --output="$outdir/merge-%j.out" "$here/merge.sbatch")
merge=${merge%%;*}
# for requeue.sh
printf 'ARRAY=%s\nMERGE=%s\nSHARDS=%s\n' "$array" "$merge" "$shards" >"$outdir/jobs.env"
echo "$array $merge"
