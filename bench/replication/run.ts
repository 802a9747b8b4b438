/**
 * The replication report (issue 24): the seed papers' claims, measured on our models with samplescope's
 * own samplers, each difference with a 95 % bootstrap interval over samples (bench/replication/stats.ts).
 * Not part of `npm test`. One command regenerates the JSON lines, the Markdown report and the README table:
 *
 *   npm run replication                                    # every section, default sizes
 *   npm run replication -- --only digits,mam --per-class 16 --backend cpu --bootstrap 1000
 *
 * Sections (each rerun replaces its own lines in bench/replication/results.jsonl, so they can be run apart):
 *   digits  digits-diffusion DDIM: guidance w (CDR), the guidance-distilled student digits-guided mixed in by λ
 *           (CFG distillation), guided settings at half the steps (the same passes as the student), and the
 *           consistency student digits-fewstep alone and after 2 or 4 base steps (Distilling Diversity)
 *   text    text-mdm with guidance s = 1 and 3 (CDR on text), 128 characters, ancestral 16 steps
 *   mdm     text-mdm unconditional, 32 characters: FHS (exact, one pass per token) vs ancestral with N steps
 *   assd    text-asarm, 32 characters: ASSD vs sequential (same law), passes per sample
 *   mam     text-mam: one-pass log p(x_S) vs the chain of its own conditionals along a random order, and time
 * Metrics: classifier consistency (argmax = requested class), Vendi within class (cosine kernel on the
 * classifier's features), PRDC precision and density per sample against the classifier's real reference set,
 * NLL per character under text-asarm (exact, left to right), token entropy per sample.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { execSync } from 'node:child_process';
import { arg } from '../util.js';
import { Engine } from '../../src/worker/engine.js';
import { knnRadiiSq, pairwiseSq } from '../../src/metrics/prdc.js';
import { tokenEntropy } from '../../src/metrics/text.js';
import { classifyImages, classifyTokens } from '../../src/sweep/evaluate.js';
import { loadModel, loadModelFiles } from '../../src/models/index.js';
import { tensorData } from '../../src/models/safetensors.js';
import { logMarginals } from '../../src/samplers/mam.js';
import { PositionRng } from '../../src/samplers/common.js';
import { spearman } from '../../src/metrics/mam-calibration.js';
import { dataLogProb } from '../../src/ops/categorical.js';
import type { Model } from '../../src/models/model.js';
import {
  bootstrap,
  diffInterval,
  intervalOf,
  percentile95,
  verdictOf,
  type Direction,
  type Interval,
  type Replicates,
  type SampleSet,
} from './stats.js';
import {
  claimsTable,
  renderReport,
  type ClaimLine,
  type MeasureLine,
  type ReportLine,
  type SettingLine,
} from './report.js';

const SECTIONS = ['digits', 'text', 'mdm', 'assd', 'mam'] as const;
type Section = (typeof SECTIONS)[number];
// --render-only: no sampling, only REPORT.md and the README table from the committed lines
const only = process.argv.includes('--render-only')
  ? []
  : arg('only', SECTIONS.join(','))
      .split(',')
      .filter((s) => s);
for (const s of only)
  if (!(SECTIONS as readonly string[]).includes(s)) {
    console.error(`--only: unknown section "${s}" (sections: ${SECTIONS.join(', ')})`);
    process.exit(2);
  }
const perClass = Number(arg('per-class', '10'));
const B = Number(arg('bootstrap', '1000'));
const seed = Number(arg('seed', '1'));
const out = arg('out', 'bench/replication/results.jsonl');
for (const [k, v, min] of [
  ['per-class', perClass, 2],
  ['bootstrap', B, 100],
  ['seed', seed, 0],
] as const)
  if (!Number.isSafeInteger(v) || v < min) {
    console.error(`--${k} needs an integer ≥ ${min}, got ${v}`);
    process.exit(2);
  }

// the code that runs: taken before sampling (a commit made meanwhile must not be credited with this run)
let commit = 'unknown';
try {
  commit = execSync('git rev-parse --short HEAD').toString().trim();
  // the code that ran differs from the commit when src/ or this bench has uncommitted changes
  if (execSync('git status --porcelain -- src bench/replication/run.ts bench/replication/stats.ts').toString().trim())
    commit += '-dirty';
} catch {
  /* not a checkout */
}
const engine = new Engine();
const info = await engine.init(arg('backend', 'auto') as 'auto' | 'webgpu' | 'cpu');
const adapter = info.adapter
  ? info.adapter.description || `${info.adapter.vendor} ${info.adapter.architecture}`
  : 'cpu';
console.error(`# backend ${info.name} (${adapter}); ${perClass} per class, ${B} bootstrap replicates, seed ${seed}`);
const load = (name: string) => engine.loadModel(`models/${name}`, { id: name });

let stream = 0;
const reps = new Map<string, Replicates>();
const lines: ReportLine[] = [];

/** Record a setting: its samples' replicates (kept for the claims) and a line with every interval. */
function setting(
  section: Section,
  id: string,
  label: string,
  model: string,
  knobs: Record<string, unknown>,
  set: SampleSet,
  cost: { nfe: number | Interval; ms: number },
): void {
  const r = bootstrap(set, B, seed, stream++);
  reps.set(id, r);
  const stats = Object.fromEntries(Object.keys(r.est).map((s) => [s, intervalOf(r, s)]));
  const n = set.groups.length;
  const line: SettingLine = { type: 'setting', section, id, label, model, knobs, n, ...cost, stats };
  lines.push(line);
  const show = Object.entries(stats)
    .map(([k, v]) => `${k} ${v.est.toFixed(3)} [${v.lo.toFixed(3)}, ${v.hi.toFixed(3)}]`)
    .join(' · ');
  console.error(`  ${id}: n ${n}, ${(cost.ms / 1000).toFixed(1)} s · ${show}`);
}

/** Record a claim: stat(a) − stat(b) with its interval and the verdict for the claimed direction. */
function claim(
  section: Section,
  c: Omit<ClaimLine, 'type' | 'section' | 'diff' | 'verdict'> & { direction: Direction; margin?: number },
): void {
  const ra = reps.get(c.a),
    rb = reps.get(c.b);
  if (!ra || !rb) throw new Error(`claim ${c.id}: settings ${c.a} / ${c.b} not measured`);
  const diff = diffInterval(ra, rb, c.stat);
  const line: ClaimLine = { type: 'claim', section, ...c, diff, verdict: verdictOf(diff, c.direction, c.margin) };
  lines.push(line);
  console.error(
    `  claim ${c.id}: ${c.stat}(${c.a}) − ${c.stat}(${c.b}) = ${diff.est.toFixed(3)} [${diff.lo.toFixed(3)}, ${diff.hi.toFixed(3)}] → ${line.verdict}`,
  );
}

/**
 * A front claim: each of `points` is dominated by a rival when, on every statistic (higher = better), the
 * rival − point interval has lo ≥ 0, and lo > 0 on at least one. Shown when no point is dominated.
 */
function front(
  section: Section,
  c: { id: string; paper: string; claim: string; points: string[]; rivals: string[]; stats: string[] },
): void {
  const got = (id: string) => {
    const r = reps.get(id);
    if (!r) throw new Error(`front ${c.id}: setting ${id} not measured`);
    return r;
  };
  const dominated: string[] = [];
  for (const p of c.points)
    for (const q of c.rivals) {
      const d = c.stats.map((s) => diffInterval(got(q), got(p), s));
      if (d.every((iv) => iv.lo >= 0) && d.some((iv) => iv.lo > 0)) dominated.push(`${p} by ${q}`);
    }
  const line: MeasureLine = {
    type: 'measure',
    section,
    id: c.id,
    paper: c.paper,
    claim: c.claim,
    measures: { dominatedPoints: { est: dominated.length, lo: NaN, hi: NaN } },
    detail: dominated.length
      ? `dominated: ${dominated.join(', ')}`
      : `none of ${c.points.join(', ')} dominated by ${c.rivals.join(' or ')} on ${c.stats.join(' and ')}`,
    verdict: dominated.length ? 'opposite' : 'effect',
  };
  lines.push(line);
  console.error(`  front ${c.id}: ${line.detail}`);
}

// ------------------------------------------------------------------------------------------------ digits

/** Per-sample consistency, PRDC precision and density, and the features, of classified samples. */
async function classifierSet(
  classifier: string,
  classified: { features: Float32Array; logits: Float32Array },
  requested: Uint32Array,
  k = 5,
): Promise<SampleSet> {
  const ref = await engine.referenceSet(classifier);
  const n = requested.length,
    d = ref.d,
    C = classified.logits.length / n;
  const consistency = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (classified.logits[i * C + c] > classified.logits[i * C + best]) best = c;
    consistency[i] = best === requested[i] ? 1 : 0;
  }
  const real = { data: ref.features, n: ref.n, d };
  const radii = (ref.radiiSq ??= new Map());
  if (!radii.has(k)) radii.set(k, knnRadiiSq(real, k));
  const r2 = radii.get(k)!;
  const dist = pairwiseSq({ data: classified.features, n, d }, real);
  const precision = new Float64Array(n),
    density = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let inside = 0;
    for (let j = 0; j < ref.n; j++) if (dist[i * ref.n + j] <= r2[j]) inside++;
    precision[i] = inside > 0 ? 1 : 0;
    density[i] = inside / k;
  }
  return { groups: requested, values: { consistency, precision, density }, features: { data: classified.features, d } };
}

async function digits(): Promise<void> {
  for (const m of ['digits-diffusion', 'digits-guided', 'digits-fewstep', 'digits-classifier']) await load(m);
  const classes = 10,
    n = classes * perClass,
    steps = 10;
  const requested = Uint32Array.from({ length: n }, (_, i) => Math.floor(i / perClass));
  const run = async (
    id: string,
    label: string,
    knobs: { steps: number; guidance: number; lambda?: number },
    hybrid?: { baseSteps: number; studentSteps: number },
  ) => {
    const t0 = performance.now();
    const r = await engine.sampleImage({
      model: 'digits-diffusion',
      options: {
        sampler: 'ddim',
        eta: 0,
        steps: knobs.steps,
        guidance: knobs.guidance,
        batch: n,
        seed,
        classes: requested,
        previewEvery: 0,
        ...(knobs.lambda ? { lambda: knobs.lambda, lambdaModel: 'digits-guided' } : {}),
      },
      ...(hybrid ? { hybrid: { student: 'digits-fewstep', ...hybrid } } : {}),
    });
    const ms = performance.now() - t0;
    const set = await classifierSet(
      'digits-classifier',
      await classifyImages(engine, 'digits-classifier', r.images, n),
      requested,
    );
    setting('digits', id, label, 'digits-diffusion', { ...knobs, ...(hybrid ?? {}) }, set, { nfe: r.nfe, ms });
  };
  // CDR: guidance on the teacher (w = 1 is the plain conditional model, one pass per step)
  for (const w of [1, 2, 3, 5]) await run(`teacher-w${w}`, `teacher, w = ${w}, DDIM ${steps}`, { steps, guidance: w });
  // CFG distillation: the student at λ = 1 is digits-guided itself; λ = 0 is the teacher (teacher-w1)
  for (const l of [0.25, 0.5, 0.75, 1])
    await run(`lambda-${l}`, `λ = ${l} (student mixed into teacher), DDIM ${steps}`, { steps, guidance: 1, lambda: l });
  // the same passes as the student: guided teacher at half the steps
  for (const w of [2, 3])
    await run(`teacher-w${w}-half`, `teacher, w = ${w}, DDIM ${steps / 2}`, { steps: steps / 2, guidance: w });
  // Distilling Diversity: the consistency student alone (2 steps) and after m base steps of the 10-step grid
  for (const m of [0, 2, 4])
    await run(
      m ? `hybrid-${m}` : 'student-2',
      m ? `${m} base DDIM steps, then 2 student steps` : 'digits-fewstep alone, 2 consistency steps',
      { steps, guidance: 1 },
      { baseSteps: m, studentSteps: 2 },
    );

  claim('digits', {
    id: 'cdr-digits-consistency',
    paper: 'CDR (Astolfi et al.)',
    claim: 'guidance raises consistency',
    a: 'teacher-w3',
    b: 'teacher-w1',
    stat: 'consistency',
    direction: '>',
  });
  claim('digits', {
    id: 'cdr-digits-diversity',
    paper: 'CDR (Astolfi et al.)',
    claim: 'guidance lowers diversity (Vendi within class)',
    a: 'teacher-w3',
    b: 'teacher-w1',
    stat: 'vendi',
    direction: '<',
  });
  claim('digits', {
    id: 'cfg-distill-consistency',
    paper: 'Diversity-Rewarded CFG Distillation',
    claim: "the student (λ = 1) matches the guided teacher's consistency at half the passes",
    a: 'lambda-1',
    b: 'teacher-w3',
    stat: 'consistency',
    direction: '≈',
    margin: 0.05,
  });
  claim('digits', {
    id: 'cfg-lambda-diversity',
    paper: 'Diversity-Rewarded CFG Distillation',
    claim: 'moving λ toward the base raises diversity',
    a: 'lambda-0.5',
    b: 'lambda-1',
    stat: 'vendi',
    direction: '>',
  });
  for (const w of [2, 3])
    claim('digits', {
      id: `cfg-lambda-vs-w${w}-half`,
      paper: 'Diversity-Rewarded CFG Distillation',
      claim: `at the same passes, the student beats guidance w = ${w} on consistency`,
      a: 'lambda-1',
      b: `teacher-w${w}-half`,
      stat: 'consistency',
      direction: '>',
    });
  front('digits', {
    id: 'cfg-lambda-front',
    paper: 'Diversity-Rewarded CFG Distillation',
    claim: 'the λ curve is a front: no λ setting is dominated by guidance at the same passes',
    points: ['lambda-0.25', 'lambda-0.5', 'lambda-0.75', 'lambda-1'],
    rivals: ['teacher-w2-half', 'teacher-w3-half'],
    stats: ['consistency', 'vendi'],
  });
  claim('digits', {
    id: 'dd-hybrid-diversity',
    paper: 'Distilling Diversity (Gandikota & Bau)',
    claim: "2 base steps before the student recover part of the base's diversity",
    a: 'hybrid-2',
    b: 'student-2',
    stat: 'vendi',
    direction: '>',
  });
  claim('digits', {
    id: 'dd-student-diversity',
    paper: 'Distilling Diversity (Gandikota & Bau)',
    claim: 'the distilled student is less diverse than its base',
    a: 'student-2',
    b: 'teacher-w1',
    stat: 'vendi',
    direction: '<',
  });
}

// -------------------------------------------------------------------------------------------------- text

/** Text samples' per-sample NLL per character under text-asarm and token entropy (unconditional rows). */
async function textValues(tokens: Uint32Array, n: number, L: number, classId?: number) {
  const nll = await engine.nll('text-asarm', tokens, n, L, classId);
  return { nll: Float64Array.from(nll), entropy: tokenEntropy(tokens, n, L) };
}

async function text(): Promise<void> {
  for (const m of ['text-mdm', 'text-asarm', 'text-classifier']) await load(m);
  const L = engine.modelInfo('text-classifier').maxLength!,
    classes = engine.modelInfo('text-mdm').classes.length - 1;
  const per = perClass * 2,
    n = classes * per;
  const requested = Uint32Array.from({ length: n }, (_, i) => Math.floor(i / per));
  for (const s of [1, 3]) {
    const t0 = performance.now();
    const tokens = new Uint32Array(n * L);
    let nfe = 0;
    for (let c = 0; c < classes; c++) {
      const r = await engine.sampleText({
        model: 'text-mdm',
        sampler: 'ancestral',
        options: { length: L, batch: per, seed: seed + c, classId: c, guidance: s, steps: 16 },
      });
      tokens.set(r.samples, c * per * L);
      nfe += r.nfe / classes;
    }
    const ms = performance.now() - t0;
    const cl = await classifyTokens(engine, 'text-classifier', tokens, n);
    const set = await classifierSet('text-classifier', cl, requested);
    // realism for text: NLL per character under text-asarm given the requested class
    const nll = new Float64Array(n);
    for (let c = 0; c < classes; c++)
      nll.set(await engine.nll('text-asarm', tokens.subarray(c * per * L, (c + 1) * per * L), per, L, c), c * per);
    set.values.nll = nll;
    set.values.entropy = tokenEntropy(tokens, n, L);
    delete set.values.density; // the text reference set is 400 windows: PRDC is not what text realism means here
    delete set.values.precision;
    setting(
      'text',
      `text-s${s}`,
      `text-mdm, s = ${s}, ancestral 16 steps, ${L} chars`,
      'text-mdm',
      { guidance: s },
      set,
      {
        nfe,
        ms,
      },
    );
  }
  claim('text', {
    id: 'cdr-text-consistency',
    paper: 'CDR (Astolfi et al.)',
    claim: 'guidance raises consistency (text)',
    a: 'text-s3',
    b: 'text-s1',
    stat: 'consistency',
    direction: '>',
  });
  claim('text', {
    id: 'cdr-text-diversity',
    paper: 'CDR (Astolfi et al.)',
    claim: 'guidance lowers diversity (text, Vendi within class)',
    a: 'text-s3',
    b: 'text-s1',
    stat: 'vendi',
    direction: '<',
  });
}

async function mdm(): Promise<void> {
  for (const m of ['text-mdm', 'text-asarm']) await load(m);
  const L = 32,
    n = perClass * 4;
  const groups = new Uint32Array(n);
  const run = async (id: string, label: string, options: Record<string, unknown>, sampler: 'fhs' | 'ancestral') => {
    const t0 = performance.now();
    const r = await engine.sampleText({
      model: 'text-mdm',
      sampler,
      options: { length: L, batch: n, seed, ...options },
    });
    const ms = performance.now() - t0;
    setting(
      'mdm',
      id,
      label,
      'text-mdm',
      { sampler, ...options },
      { groups, values: await textValues(r.samples, n, L) },
      {
        nfe: r.nfe,
        ms,
      },
    );
  };
  await run('fhs', `FHS, ${L} chars (one pass per token)`, {}, 'fhs');
  await run('fhs-naive-f32', `FHS, ${L} chars, naive fp32 Gumbel draws`, { precision: 'naive-f32' }, 'fhs');
  for (const N of [4, 8, 32]) await run(`ancestral-${N}`, `ancestral, ${N} steps`, { steps: N }, 'ancestral');
  claim('mdm', {
    id: 'mdm-few-steps',
    paper: 'Masked diffusion (Zheng et al.; MDLM)',
    claim: 'ancestral with few steps is worse than the exact FHS (higher NLL)',
    a: 'ancestral-4',
    b: 'fhs',
    stat: 'nll',
    direction: '>',
  });
  claim('mdm', {
    id: 'mdm-enough-steps',
    paper: 'Masked diffusion (Zheng et al.; MDLM)',
    claim: 'ancestral with N = L steps matches FHS (NLL within 0.05 nats/char)',
    a: 'ancestral-32',
    b: 'fhs',
    stat: 'nll',
    direction: '≈',
    margin: 0.05,
  });
  claim('mdm', {
    id: 'mdm-naive-gumbel-entropy',
    paper: 'Masked diffusion (Zheng et al., arXiv 2409.02908)',
    claim: 'truncated fp32 Gumbel draws lower token entropy',
    a: 'fhs-naive-f32',
    b: 'fhs',
    stat: 'entropy',
    direction: '<',
  });
}

async function assd(): Promise<void> {
  await load('text-asarm');
  const L = 32,
    n = perClass * 4;
  const groups = new Uint32Array(n);
  for (const sampler of ['sequential', 'assd'] as const) {
    const t0 = performance.now();
    const r = (await engine.sampleText({
      model: 'text-asarm',
      sampler,
      options: { length: L, batch: n, seed },
    })) as unknown as { samples: Uint32Array; nfe: number; rowNfe: Uint32Array };
    const ms = performance.now() - t0;
    const values = { ...(await textValues(r.samples, n, L)), passes: Float64Array.from(r.rowNfe) };
    setting(
      'assd',
      sampler,
      `${sampler}, ${L} chars, random order`,
      'text-asarm',
      { sampler },
      { groups, values },
      {
        nfe: intervalOf(bootstrap({ groups, values: { passes: values.passes } }, B, seed, 999), 'passes'),
        ms,
      },
    );
  }
  claim('assd', {
    id: 'assd-quality',
    paper: 'ASSD (any-subset speculative decoding)',
    claim: 'equal quality to sequential (NLL within 0.05 nats/char)',
    a: 'assd',
    b: 'sequential',
    stat: 'nll',
    direction: '≈',
    margin: 0.05,
  });
  claim('assd', {
    id: 'assd-passes',
    paper: 'ASSD (any-subset speculative decoding)',
    claim: 'fewer passes than sequential',
    a: 'assd',
    b: 'sequential',
    stat: 'passes',
    direction: '<',
  });
}

async function mam(): Promise<void> {
  const be = await engine.be();
  const model: Model = await loadModel('models/text-mam', be);
  const ref = await loadModelFiles('models/text-classifier', { roles: ['reference'] });
  const all = Uint32Array.from(tensorData(ref.files.get('reference.safetensors')!, 'tokens'));
  const W = model.maxLength,
    mask = model.maskId!,
    V = model.vocabSize;
  const n = perClass * 4,
    k = 16;
  const rng = new PositionRng([seed, 0], 25);
  // n held-out windows, k observed characters at random positions of each
  const x = all.slice(0, n * W);
  const observed = Array.from({ length: n }, (_, b) => {
    const p = [...Array(W).keys()];
    for (let i = W - 1; i > 0; i--) {
      const j = Math.floor(rng.uniform(b, i) * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    return p.slice(0, k);
  });
  const partial = new Uint32Array(n * W).fill(mask);
  observed.forEach((ps, b) => ps.forEach((j) => (partial[b * W + j] = x[b * W + j])));
  const cls = undefined;
  let t0 = performance.now();
  const onePass = await logMarginals(model, partial, n, W, cls);
  const msOne = performance.now() - t0;
  // the chain: log p(x_S) = Σ_i log p(x_{σ_i} | x_{σ_<i}) from the token head, one pass per observed character
  t0 = performance.now();
  const cur = new Uint32Array(n * W).fill(mask);
  const chain = new Float64Array(n);
  for (let i = 0; i < k; i++) {
    const t = await model.forward({
      tokens: cur,
      batch: n,
      length: W,
      classes: new Uint32Array(n).fill(model.nullClass),
    });
    const logits = (await be.read(t)) as Float32Array;
    be.free(t);
    for (let b = 0; b < n; b++) {
      const j = observed[b][i];
      chain[b] += dataLogProb(logits.subarray((b * W + j) * V, (b * W + j + 1) * V), x[b * W + j], mask);
      cur[b * W + j] = x[b * W + j];
    }
  }
  const msChain = performance.now() - t0;
  const gap = Float64Array.from(onePass, (v, b) => Math.abs(v - chain[b]) / k);
  const groups = new Uint32Array(n);
  setting(
    'mam',
    'mam-one-pass',
    `text-mam one pass vs its chain, ${k} of ${W} characters observed`,
    'text-mam',
    { observed: k },
    { groups, values: { absGapPerChar: gap } },
    { nfe: 1, ms: msOne },
  );
  // rank agreement over windows (a statistic of pairs, bootstrapped here directly)
  const r = new PositionRng([seed, 1], 26);
  const sp = new Float64Array(B);
  for (let b = 0; b < B; b++) {
    const idx = Array.from({ length: n }, (_, i) => Math.floor(r.uniform(b, i) * n));
    sp[b] = spearman(
      idx.map((i) => onePass[i]),
      idx.map((i) => chain[i]),
    );
  }
  const est = spearman(onePass, chain);
  lines.push({
    type: 'measure',
    section: 'mam',
    id: 'mam-agreement',
    paper: 'Marginalization models (MaM)',
    claim: 'one-pass marginals agree with the chain of conditionals, at a fraction of the passes',
    measures: {
      spearman: percentile95(est, sp),
      absGapPerChar: intervalOf(reps.get('mam-one-pass')!, 'absGapPerChar'),
      chainPasses: { est: k, lo: k, hi: k },
      // one timing of each, on this run's backend (no interval: written as null)
      chainOverOnePassTime: { est: msChain / msOne, lo: NaN, hi: NaN },
    },
  });
  console.error(`  MaM: Spearman ${est.toFixed(3)}, chain ${msChain.toFixed(0)} ms vs one pass ${msOne.toFixed(0)} ms`);
}

const RUN: Record<Section, () => Promise<void>> = { digits, text, mdm, assd, mam };
for (const s of only as Section[]) {
  const t0 = performance.now();
  console.error(`# section ${s}`);
  await RUN[s]();
  console.error(`# section ${s}: ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}

// merge: the sections run now replace their old lines; the header names this run for each
const kept = existsSync(out)
  ? readFileSync(out, 'utf8')
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as ReportLine)
      .filter((l) => !only.includes(l.section))
  : [];
const header: ReportLine[] = (only as Section[]).map((section) => ({
  type: 'run',
  section,
  date: new Date().toISOString(),
  commit,
  backend: info.name,
  adapter,
  perClass,
  bootstrap: B,
  seed,
  command: `npm run replication -- --only ${section} --per-class ${perClass} --bootstrap ${B} --seed ${seed}`,
}));
const order = (l: ReportLine) => SECTIONS.indexOf(l.section as Section);
const all = [...kept, ...header, ...lines].sort((a, b) => order(a) - order(b));
writeFileSync(out, all.map((l) => JSON.stringify(l)).join('\n') + '\n');
writeFileSync('bench/replication/REPORT.md', renderReport(all));
// the README's claims table, between its markers
const README = 'README.md',
  BEGIN = '<!-- replication:begin -->',
  END = '<!-- replication:end -->';
const readme = readFileSync(README, 'utf8');
const a = readme.indexOf(BEGIN),
  b = readme.indexOf(END);
if (a < 0 || b < a) throw new Error(`${README}: no ${BEGIN} … ${END} markers for the claims table`);
writeFileSync(README, `${readme.slice(0, a + BEGIN.length)}\n${claimsTable(all)}\n${readme.slice(b)}`);
console.error(`# wrote ${out}, bench/replication/REPORT.md and the table in ${README}`);
