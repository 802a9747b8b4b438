#!/usr/bin/env bash
# The runner image's entrypoint (Dockerfile): one shard of a sweep in a pod of a Kubernetes Indexed Job, or the
# merge of the parts.
#   entrypoint.sh sweep    # the shard is JOB_COMPLETION_INDEX (set by Kubernetes) of SAMPLESCOPE_SHARD_COUNT
#   entrypoint.sh merge    # join OUTDIR/part-*.jsonl against the spec into OUTDIR/sweep.jsonl + fronts.json
# Environment: SPEC (the sweep spec, e.g. a mounted ConfigMap), OUTDIR (a volume every pod sees: a
# ReadWriteMany claim), SAMPLESCOPE_SHARD_COUNT (= the Job's spec.completions; Kubernetes does not pass it),
# BACKEND (webgpu | auto | cpu; default webgpu), REQUIRE_HARDWARE (1 = refuse a node without a hardware GPU
# adapter; default 1 unless BACKEND=cpu), SAMPLESCOPE (the command; default samplescope).
# The part file is named by the index, so a retried pod of the same index (backoffLimitPerIndex) continues it:
# the settings it finished are skipped. Exit codes are samplescope's (0 done, 1 failed, 2 usage, 143 SIGTERM).
set -euo pipefail
mode=${1:-sweep}
: "${SPEC:?set SPEC to the sweep spec}"
: "${OUTDIR:?set OUTDIR to the shared results folder}"
# shellcheck disable=SC2206 # SAMPLESCOPE may be a command with arguments
cmd=(${SAMPLESCOPE:-samplescope})
case "$mode" in
  sweep)
    : "${JOB_COMPLETION_INDEX:?not in an Indexed Job: JOB_COMPLETION_INDEX is unset}"
    : "${SAMPLESCOPE_SHARD_COUNT:?set SAMPLESCOPE_SHARD_COUNT to spec.completions of the Job}"
    backend=${BACKEND:-webgpu}
    hw=()
    if [ "${REQUIRE_HARDWARE:-$([ "$backend" = cpu ] && echo 0 || echo 1)}" = 1 ]; then hw=(--require-hardware); fi
    mkdir -p "$OUTDIR"
    echo "# index $JOB_COMPLETION_INDEX of $SAMPLESCOPE_SHARD_COUNT on ${HOSTNAME:-?}"
    exec "${cmd[@]}" sweep --spec "$SPEC" --shard auto --backend "$backend" \
      --out "$OUTDIR/part-$JOB_COMPLETION_INDEX.jsonl" "${hw[@]}"
    ;;
  merge)
    shopt -s nullglob
    parts=("$OUTDIR"/part-*.jsonl)
    if [ ${#parts[@]} -eq 0 ]; then
      echo "merge: no $OUTDIR/part-*.jsonl" >&2
      exit 1
    fi
    exec "${cmd[@]}" merge "${parts[@]}" --spec "$SPEC" --out "$OUTDIR/sweep.jsonl" --fronts "$OUTDIR/fronts.json"
    ;;
  *)
    echo "entrypoint.sh: unknown mode $mode (sweep | merge)" >&2
    exit 2
    ;;
esac
