/**
 * Calibration report of a text MaM model (src/metrics/mam-calibration.ts) on the 400 held-out
 * 128-character windows that the text classifier ships as its reference set, against text-asarm's
 * exact left-to-right likelihood. `--write` stores the report in the model's manifest (`calibration`),
 * where the engine, `<mam-scorer>` and `samplescope score` read the error they show beside a score,
 * with the same measurement on the first CHECK snippets (`calibration.check`), which the test suite
 * recomputes (test/gpu/mam-calibration.test.ts; the whole set takes minutes on a software GPU).
 *
 *   npm run calibrate:mam                       # models/text-mam vs models/text-asarm, seed 1
 *   npm run calibrate:mam -- --write            # and record it in models/text-mam/manifest.json
 *   npm run calibrate:mam -- --model models/x --evaluator models/y --classifier models/z --seed 2
 */
import { tokenizerOf } from '../src/models/tokenizer.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { arg } from '../bench/util.js';
import { createBackend } from '../src/backend/create.js';
import { mamCalibration } from '../src/metrics/mam-calibration.js';
import { loadModel, loadModelFiles } from '../src/models/index.js';
import { tensorData } from '../src/models/safetensors.js';

const dir = arg('model', 'models/text-mam');
const evaluator = arg('evaluator', 'models/text-asarm');
const classifier = arg('classifier', 'models/text-classifier');
const seed = Number(arg('seed', '1'));
/** snippets in the recorded check (the test suite's share) */
const CHECK = 100;
if (!Number.isSafeInteger(seed) || seed < 0) {
  console.error('--seed needs a non-negative integer');
  process.exit(2);
}

const be = await createBackend();
const mam = await loadModel(dir, be);
const exact = await loadModel(evaluator, be);
const ref = await loadModelFiles(classifier, { roles: ['reference'] });
const file = ref.files.get('reference.safetensors')!;
const tokens = Uint32Array.from(tensorData(file, 'tokens'));
const same = (a: string[], b: string[]) => a.length === b.length && a.every((c, i) => c === b[i]);
if (
  !same(tokenizerOf(mam).tokenStrings(), tokenizerOf(exact).tokenStrings()) ||
  !same(tokenizerOf(mam).tokenStrings(), (ref.manifest as { tokenizer: { vocab: string[] } }).tokenizer.vocab)
) {
  console.error('the MaM model, the evaluator and the reference set must share one vocabulary');
  process.exit(2);
}
const t0 = performance.now();
const report = await mamCalibration(mam, exact, tokens, { seed });
const seconds = (performance.now() - t0) / 1000;
const { inputsScored: _n, ...check } = await mamCalibration(mam, exact, tokens.subarray(0, CHECK * mam.maxLength), {
  seed,
});
const record = {
  ...report,
  check,
  evaluator: exact.name,
  snippets_from: `${ref.manifest.name} reference set (held-out windows)`,
  seed,
  command: `npm run calibrate:mam -- --seed ${seed}${process.argv.includes('--write') ? ' --write' : ''}`,
};
console.log(JSON.stringify(record, null, 1));
console.error(`# ${report.snippets} snippets on ${be.name} in ${seconds.toFixed(1)} s`);
if (process.argv.includes('--write')) {
  const path = `${dir}/manifest.json`;
  const m = JSON.parse(readFileSync(path, 'utf8'));
  m.calibration = record;
  writeFileSync(path, JSON.stringify(m, null, 1));
  console.error(`# wrote calibration into ${path}`);
}
