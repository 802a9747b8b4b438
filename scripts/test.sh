#!/usr/bin/env bash
# The test command: embed shaders, type-check, then every vitest project (unit, gpu, e2e).
# GPU tests need an adapter and fail loudly without one (run scripts/setup.sh first).
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/gen-shaders.mjs
npx tsc -p tsconfig.json --noEmit
exec bash scripts/with-gpu.sh npx vitest run "$@"
