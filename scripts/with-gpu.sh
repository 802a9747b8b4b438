#!/usr/bin/env bash
# Runs a command with a Vulkan driver that Dawn (npm "webgpu") accepts: $VK_ICD_FILENAMES if set,
# else the lavapipe that scripts/setup.sh installed. Also gives Mesa a runtime dir.
set -euo pipefail
LVP_DIR=${SAMPLESCOPE_LAVAPIPE_DIR:-$HOME/.cache/samplescope/lavapipe}
if [ -z "${VK_ICD_FILENAMES:-}" ] && [ -f "$LVP_DIR/lvp_icd.json" ]; then
  export VK_ICD_FILENAMES="$LVP_DIR/lvp_icd.json"
fi
if [ -z "${XDG_RUNTIME_DIR:-}" ]; then
  export XDG_RUNTIME_DIR=$(mktemp -d)
fi
exec "$@"
