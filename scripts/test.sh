#!/usr/bin/env bash
# The test command: embed shaders, type-check, lint and check formatting (ESLint, Prettier: `npm run
# format` fixes most of what they find), then every vitest project (unit, gpu, samplers, e2e)
# on lavapipe (Node + Dawn) and Chromium's SwiftShader (e2e), then the GPU kernel, runtime and
# model-parity tests a second time on another Vulkan driver: SwiftShader's ICD, which Chromium ships
# (limits ordered differently, other transcendental precision). The second pass runs only on a full
# run (no arguments); SAMPLESCOPE_SECOND_ICD points it at another driver's ICD json.
# GPU tests need an adapter and fail loudly without one (run scripts/setup.sh first).
# Ends with a plain "N passed, N failed, N skipped" line read from vitest's JSON reports.
set -uo pipefail
cd "$(dirname "$0")/.."
node scripts/gen-shaders.mjs || exit 1
npx tsc -p tsconfig.json --noEmit || exit 1
npx eslint . || exit 1
npx prettier --check --log-level warn . || exit 1
report=$(mktemp -t vitest-XXXXXX.json)
bash scripts/with-gpu.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
reports=("$report")
if [ $# -eq 0 ]; then
  icd=${SAMPLESCOPE_SECOND_ICD:-/usr/lib/chromium/vk_swiftshader_icd.json}
  # the kernels, the runtime and its limits, hardening and golden model parity; not the sweeps and
  # sampler suites, which test the same kernels at length (CI time)
  second=(test/gpu/attention.test.ts test/gpu/categorical.test.ts test/gpu/conv2d.test.ts test/gpu/diffusion_step.test.ts
    test/gpu/elementwise.test.ts test/gpu/embedding.test.ts test/gpu/f16.test.ts test/gpu/f16-paths.test.ts
    test/gpu/hardening.test.ts test/gpu/layer_norm.test.ts test/gpu/limits.test.ts test/gpu/matmul.test.ts test/gpu/modulate.test.ts test/gpu/patchify.test.ts test/gpu/pool2d.test.ts
    test/gpu/rms_norm.test.ts test/gpu/rng.test.ts test/gpu/rope.test.ts test/gpu/runtime.test.ts test/gpu/softmax.test.ts
    test/gpu/swiglu.test.ts test/gpu/transformer.test.ts test/gpu/hf.test.ts)
  if [ ! -f "$icd" ]; then
    echo "test: the second Vulkan driver's ICD ($icd) is missing — run scripts/setup.sh (it installs chromium)" >&2
    rc=1
  else
    echo "test: GPU kernel and runtime tests again on a second driver ($icd)"
    report2=$(mktemp -t vitest-XXXXXX.json)
    SAMPLESCOPE_SECOND_DRIVER=1 VK_ICD_FILENAMES="$icd" bash scripts/with-gpu.sh npx vitest run --project gpu --reporter=default --reporter=json --outputFile.json="$report2" "${second[@]}"
    rc2=$?
    [ $rc -eq 0 ] && rc=$rc2
    reports+=("$report2")
  fi
fi
node -e '
  const fs = require("fs");
  let p = 0, f = 0, s = 0, ok = true;
  for (const path of process.argv.slice(1)) {
    try {
      const r = JSON.parse(fs.readFileSync(path, "utf8"));
      p += r.numPassedTests; f += r.numFailedTests; s += r.numPendingTests + r.numTodoTests;
    } catch { ok = false; }
  }
  console.log(ok ? `tests: ${p} passed, ${f} failed, ${s} skipped` : "tests: no report (vitest did not finish)");
' "${reports[@]}"
rm -f "${reports[@]}"
exit $rc
