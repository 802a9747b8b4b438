#!/usr/bin/env bash
# The test command: embed shaders, type-check, then every vitest project (unit, gpu, e2e).
# GPU tests need an adapter and fail loudly without one (run scripts/setup.sh first).
# Ends with a plain "N passed, N failed, N skipped" line read from vitest's JSON report.
set -uo pipefail
cd "$(dirname "$0")/.."
node scripts/gen-shaders.mjs || exit 1
npx tsc -p tsconfig.json --noEmit || exit 1
report=$(mktemp -t vitest-XXXXXX.json)
bash scripts/with-gpu.sh npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@"
rc=$?
node -e '
  const fs = require("fs");
  try {
    const r = JSON.parse(fs.readFileSync(process.argv[1], "utf8"));
    const skipped = r.numPendingTests + r.numTodoTests;
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  } catch { console.log("tests: no report (vitest did not finish)"); }
' "$report"
rm -f "$report"
exit $rc
