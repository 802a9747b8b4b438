/**
 * Diffusion benchmark on the trained image models (not part of `npm test`).
 *
 * First it validates: digits-diffusion's ε̂ on the chosen backend against the CPU reference backend
 * on its golden inputs (atol 2e-3 + rtol 2e-3); a mismatch aborts before anything is timed. Then:
 *   step     ms per denoising step (one forward + update) on webgpu and cpu at batch 1 and 16
 *            (median of `--runs` after a warm-up), and their ratio
 *   guidance digits-classifier accuracy on DDIM samples (`--per-class` per digit) at guidance s ∈ {1, 2, 4, 6},
 *            with a PNG grid per w under bench/results/
 *   fewstep  digits-fewstep with 1, 2, 4 consistency steps, the base with DDIM 20 steps, and the
 *            hybrid (2 base steps of a 20-step grid, then 2 student steps): accuracy and time per image
 * Writes bench/results/diffusion-<adapter>.json and prints a Markdown table.
 *
 *   npm run bench:diffusion [-- --backend webgpu --runs 3 --per-class 5 --steps 10 --only step,guidance,fewstep]
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { writeResults } from '../results-file.js';
import { createBackend } from '../../src/backend/create.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadClassifier, loadDenoiser } from '../../src/models/index.js';
import type { ClassifierModel, DenoiserModel } from '../../src/models/model.js';
import { sampleDiffusion, type DiffusionOptions } from '../../src/samplers/diffusion.js';
import { encodeGreyPng, gridPixels } from '../../src/cli/png.js';
import { tensorData } from '../../src/models/safetensors.js';
import { loadModelFiles } from '../../src/models/load.js';
import { arg, median, sum } from '../util.js';

const runs = Number(arg('runs', '3'));
const perClass = Number(arg('per-class', '5'));
const steps = Number(arg('steps', '10'));
const only = new Set(arg('only', 'step,guidance,fewstep').split(','));
const ATOL = 2e-3,
  RTOL = 2e-3;

const be = await createBackend({ prefer: arg('backend', 'webgpu') as 'webgpu' | 'cpu' });
const cpu = new CpuBackend();
const adapter = be.info.adapter ? be.info.adapter.description || be.info.adapter.vendor : 'cpu';
console.log(`backend ${be.name} (${adapter})`);

async function validate(dir: string): Promise<DenoiserModel> {
  const m = await loadDenoiser(dir, be);
  const f = await loadModelFiles(dir, { roles: ['golden'] });
  const g = f.files.get('golden.safetensors')!;
  const x = tensorData(g, 'x') as Float32Array,
    want = tensorData(g, 'eps') as Float32Array;
  const t = Uint32Array.from(tensorData(g, 't')),
    cls = Uint32Array.from(tensorData(g, 'cls'));
  const xt = be.tensor(x, [t.length, m.imageSize, m.imageSize, m.channels]);
  const got = (await be.read(await m.forward({ x: xt, t, classes: cls }))) as Float32Array;
  be.free(xt);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(got[i] - want[i]) <= ATOL + RTOL * Math.abs(want[i])))
      throw new Error(`validation failed: ${m.name} ε̂[${i}] = ${got[i]}, PyTorch ${want[i]}`);
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  console.log(
    `validated ${m.name} on ${be.name} against its PyTorch golden vectors (max |Δ| ${worst.toExponential(2)})`,
  );
  return m;
}

async function accuracy(clf: ClassifierModel, images: Float32Array, classes: Uint32Array): Promise<number> {
  const n = classes.length;
  const x = clf.backend.tensor(images, [n, clf.imageSize, clf.imageSize, 1]);
  const { features, logits } = clf.run(x);
  const l = (await clf.backend.read(logits)) as Float32Array;
  for (const t of [x, features, logits]) clf.backend.free(t);
  let ok = 0;
  for (let b = 0; b < n; b++) {
    let k = 0;
    for (let j = 1; j < clf.numClasses; j++) if (l[b * clf.numClasses + j] > l[b * clf.numClasses + k]) k = j;
    if (k === classes[b]) ok++;
  }
  return ok / n;
}

function png(name: string, images: Float32Array, n: number, cols: number): string {
  mkdirSync('bench/results', { recursive: true });
  const g = gridPixels(images, n, 28, 28, cols);
  const file = `bench/results/${name}.png`;
  writeFileSync(file, encodeGreyPng(g.width, g.height, g.pixels));
  return file;
}

const rows: Record<string, unknown>[] = [];
const base = await validate('models/digits-diffusion');
const clf = await loadClassifier('models/digits-classifier', be);
const classes = Uint32Array.from({ length: 10 * perClass }, (_, i) => Math.floor(i / perClass));

if (only.has('step')) {
  const cpuModel = await loadDenoiser('models/digits-diffusion', cpu);
  for (const B of [1, 16]) {
    const perStep: Record<string, number> = {};
    for (const [name, m] of [
      ['webgpu', base],
      ['cpu', cpuModel],
    ] as [string, DenoiserModel][]) {
      if (name === 'webgpu' && be.name !== 'webgpu') continue;
      const o: DiffusionOptions = { sampler: 'ddim', steps: 4, batch: B, seed: 1, classId: 3 };
      await sampleDiffusion(m, o);
      const ts: number[] = [];
      for (let r = 0; r < runs; r++) ts.push(median((await sampleDiffusion(m, { ...o, seed: 2 + r })).stepTimesMs));
      perStep[name] = median(ts);
    }
    const row = {
      section: 'step',
      batch: B,
      msPerStep: perStep,
      cpuOverWebgpu: perStep.webgpu ? perStep.cpu / perStep.webgpu : undefined,
    };
    rows.push(row);
    console.log(
      `ms per denoising step, batch ${B}: ${JSON.stringify(perStep)}${row.cpuOverWebgpu ? ` → webgpu ${row.cpuOverWebgpu.toFixed(1)}× faster than cpu` : ''}`,
    );
  }
  cpuModel.dispose();
}

if (only.has('guidance')) {
  // guidance scale s (1 = the conditional model); results before issue 15 recorded w = s − 1
  for (const s of [1, 2, 4, 6]) {
    const r = await sampleDiffusion(base, {
      sampler: 'ddim',
      steps,
      batch: classes.length,
      seed: 11,
      classes,
      guidance: s,
      previewEvery: 0,
    });
    const acc = await accuracy(clf, r.images, classes);
    const file = png(`digits-ddim${steps}-s${s}`, r.images, classes.length, perClass);
    rows.push({
      section: 'guidance',
      s,
      steps,
      images: classes.length,
      classifierAccuracy: acc,
      ms: sum(r.stepTimesMs),
      grid: file,
    });
    console.log(
      `guidance s = ${s}: classifier accuracy ${(100 * acc).toFixed(1)}% on ${classes.length} DDIM-${steps} samples (${file})`,
    );
  }
}

if (only.has('fewstep')) {
  if (!existsSync('models/digits-fewstep/manifest.json')) {
    console.log('fewstep: skipped (models/digits-fewstep not present)');
  } else {
    const student = await loadDenoiser('models/digits-fewstep', be);
    const cases: [string, DenoiserModel, DiffusionOptions][] = [
      ['base ddim 20', base, { sampler: 'ddim', steps: 20, batch: classes.length, seed: 12, classes }],
      ['student 1 step', student, { sampler: 'consistency', steps: 1, batch: classes.length, seed: 12, classes }],
      ['student 2 steps', student, { sampler: 'consistency', steps: 2, batch: classes.length, seed: 12, classes }],
      ['student 4 steps', student, { sampler: 'consistency', steps: 4, batch: classes.length, seed: 12, classes }],
      ['base 1 consistency step', base, { sampler: 'consistency', steps: 1, batch: classes.length, seed: 12, classes }],
      [
        'hybrid 2 base + 2 student',
        base,
        {
          sampler: 'ddim',
          steps: 20,
          batch: classes.length,
          seed: 12,
          classes,
          hybrid: { student, baseSteps: 2, studentSteps: 2 },
        },
      ],
      // the same with classifier-free guidance s = 4 (the student keeps the teacher's null class)
      ['base ddim 20 s4', base, { sampler: 'ddim', steps: 20, batch: classes.length, seed: 12, classes, guidance: 4 }],
      [
        'student 2 steps s4',
        student,
        { sampler: 'consistency', steps: 2, batch: classes.length, seed: 12, classes, guidance: 4 },
      ],
      [
        'student 4 steps s4',
        student,
        { sampler: 'consistency', steps: 4, batch: classes.length, seed: 12, classes, guidance: 4 },
      ],
      [
        'hybrid 2 base + 2 student s4',
        base,
        {
          sampler: 'ddim',
          steps: 20,
          batch: classes.length,
          seed: 12,
          classes,
          guidance: 4,
          hybrid: { student, baseSteps: 2, studentSteps: 2 },
        },
      ],
    ];
    for (const [label, m, o] of cases) {
      const r = await sampleDiffusion(m, { ...o, previewEvery: 0 });
      const acc = await accuracy(clf, r.images, classes);
      const ms = sum(r.stepTimesMs);
      const file = png(`digits-${label.replace(/[^a-z0-9]+/g, '-')}`, r.images, classes.length, perClass);
      rows.push({
        section: 'fewstep',
        setting: label,
        nfe: r.nfe,
        classifierAccuracy: acc,
        msPerImage: ms / classes.length,
        grid: file,
      });
      console.log(
        `${label}: NFE ${r.nfe}, accuracy ${(100 * acc).toFixed(1)}%, ${(ms / classes.length).toFixed(1)} ms per image (${file})`,
      );
    }
    student.dispose();
  }
}

// a run of some sections only keeps its own file, so it never overwrites a full run's figures
const file = writeResults('diffusion', adapter, only.size < 3 ? '-' + [...only].sort().join('-') : '', {
  backend: be.name,
  adapter: be.info.adapter,
  runs,
  perClass,
  steps,
  rows,
});
console.log(`\nwrote ${file}`);
base.dispose();
clf.dispose();
be.destroy();
