// Golden samples: fixed seeds through every sampler family on the CPU backend with the committed
// models, compared with test/fixtures/golden-samples.json (written by the code of the commit that
// added this test). Any change to a sample or to the NFE fails it — the guard for behaviour-preserving
// refactors (issue 15: knob registry, guidance convention, op contracts).
// - text (MDM FHS / ancestral by grid and by k, AS-ARM sequential / ASSD, MaM): token rows and NFE must
//   match exactly (the CPU twins are deterministic IEEE f32/f64 code);
// - images (DDPM, DDIM with η, consistency, hybrid base → student, guidance with an interval): each
//   pixel quantised to 8 bits (round(255·x), x ∈ [0, 1]) must be within 1 level of the stored value
//   (tolerance 1/255: room for last-bit float reassociation, none for a changed update), NFE exact.
// Regenerate (only when a change of samples is intended, and say so in the commit):
//   GOLDEN_UPDATE=1 npx vitest run --project samplers test/samplers/golden.test.ts
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { loadDenoiser, loadModel } from '../../src/models/index.js';
import type { DenoiserModel, Model } from '../../src/models/model.js';
import { sampleAsarm, type AsarmOptions } from '../../src/samplers/asarm.js';
import { sampleDiffusion, type DiffusionOptions } from '../../src/samplers/diffusion.js';
import { sampleMam, type MamSampleOptions } from '../../src/samplers/mam.js';
import { sampleMdm, type MdmOptions } from '../../src/samplers/mdm.js';
import { FIXTURES, MODELS } from '../util/models.js';

const FILE = `${FIXTURES}golden-samples.json`;
const UPDATE = process.env.GOLDEN_UPDATE === '1';
/** image tolerance in 8-bit levels */
const IMAGE_LEVELS = 1;

type TextCase = { name: string; model: 'text-mdm' | 'text-asarm' | 'text-mam' } & (
  | { family: 'mdm'; options: MdmOptions }
  | { family: 'asarm'; options: AsarmOptions }
  | { family: 'mam'; options: MamSampleOptions }
);
type ImageCase = {
  name: string;
  model: 'digits-diffusion' | 'digits-fewstep';
  family: 'diffusion';
  student?: 'digits-fewstep';
  options: Omit<DiffusionOptions, 'hybrid'> & { hybrid?: { baseSteps: number; studentSteps: number } };
};

const L = 16;
const TEXT: TextCase[] = [
  { name: 'mdm fhs', model: 'text-mdm', family: 'mdm', options: { sampler: 'fhs', batch: 2, length: L, seed: 7 } },
  {
    name: 'mdm fhs guided, top-k, temperature',
    model: 'text-mdm',
    family: 'mdm',
    options: { sampler: 'fhs', batch: 2, length: L, seed: 11, classId: 0, guidance: 2, temperature: 0.8, topK: 10 },
  },
  {
    name: 'mdm ancestral steps',
    model: 'text-mdm',
    family: 'mdm',
    options: { sampler: 'ancestral', batch: 2, length: L, seed: 3, steps: 6, classId: 1 },
  },
  {
    name: 'mdm ancestral tokens/step confidence, top-p',
    model: 'text-mdm',
    family: 'mdm',
    options: { sampler: 'ancestral', batch: 2, length: L, seed: 5, tokensPerStep: 3, order: 'confidence', topP: 0.9 },
  },
  {
    name: 'mdm ancestral steps no reuse, naive-f32',
    model: 'text-mdm',
    family: 'mdm',
    options: {
      sampler: 'ancestral',
      batch: 2,
      length: L,
      seed: 9,
      steps: 4,
      reuseLogits: false,
      precision: 'naive-f32',
    },
  },
  {
    name: 'asarm sequential',
    model: 'text-asarm',
    family: 'asarm',
    options: { sampler: 'sequential', batch: 2, length: L, seed: 1, classId: 1, kvCache: false },
  },
  {
    name: 'asarm sequential on the KV cache, guided',
    model: 'text-asarm',
    family: 'asarm',
    options: { sampler: 'sequential', batch: 2, length: L, seed: 1, classId: 1, guidance: 2, kvCache: true },
  },
  {
    name: 'asarm assd',
    model: 'text-asarm',
    family: 'asarm',
    options: { sampler: 'assd', batch: 2, length: L, seed: 2, kvCache: false },
  },
  {
    name: 'asarm assd draft 3, guided',
    model: 'text-asarm',
    family: 'asarm',
    options: { sampler: 'assd', batch: 2, length: L, seed: 4, draft: 3, classId: 0, guidance: 1.5 },
  },
  // MaM costs a pass over (vocab × length) candidates per free position: a short prompted row keeps it quick
  {
    name: 'mam prompted',
    model: 'text-mam',
    family: 'mam',
    options: { batch: 1, length: 8, seed: 6, classId: 0, prompt: Int32Array.of(5, -1, 9, 12, -1, 3, -1, 7) },
  },
];
const IMAGE: ImageCase[] = [
  {
    name: 'ddpm',
    model: 'digits-diffusion',
    family: 'diffusion',
    options: { sampler: 'ddpm', steps: 8, batch: 2, seed: 1, classId: 3 },
  },
  {
    name: 'ddim guided',
    model: 'digits-diffusion',
    family: 'diffusion',
    options: { sampler: 'ddim', steps: 6, batch: 2, seed: 2, classId: 7, guidance: 3 },
  },
  {
    name: 'ddim η 0.5, interval, noise temperature',
    model: 'digits-diffusion',
    family: 'diffusion',
    options: {
      sampler: 'ddim',
      steps: 6,
      eta: 0.5,
      batch: 2,
      seed: 3,
      classes: Uint32Array.of(1, 10),
      guidance: 1,
      noiseTemperature: 0.9,
    },
  },
  {
    name: 'ddim guidance interval',
    model: 'digits-diffusion',
    family: 'diffusion',
    options: {
      sampler: 'ddim',
      steps: 6,
      batch: 2,
      seed: 4,
      classId: 5,
      guidance: 2,
      guidanceInterval: [200, 800],
      clip: false,
    },
  },
  {
    name: 'consistency',
    model: 'digits-fewstep',
    family: 'diffusion',
    options: { sampler: 'consistency', steps: 2, batch: 2, seed: 5, classId: 2 },
  },
  {
    name: 'hybrid ddim → consistency',
    model: 'digits-diffusion',
    family: 'diffusion',
    student: 'digits-fewstep',
    options: { sampler: 'ddim', steps: 6, batch: 2, seed: 6, classId: 4, hybrid: { baseSteps: 3, studentSteps: 1 } },
  },
];

interface Golden {
  text: Record<string, { rows: number[][]; nfe: number }>;
  images: Record<string, { levels: string; nfe: number }>;
}

const cpu = new CpuBackend();
const text = new Map<string, Model>();
const image = new Map<string, DenoiserModel>();
const got: Golden = { text: {}, images: {} };
const want: Golden | null = existsSync(FILE) ? (JSON.parse(readFileSync(FILE, 'utf8')) as Golden) : null;

beforeAll(async () => {
  for (const m of new Set(TEXT.map((c) => c.model))) text.set(m, await loadModel(MODELS + m, cpu));
  for (const m of new Set(IMAGE.flatMap((c) => [c.model, c.student ?? c.model])))
    image.set(m, await loadDenoiser(MODELS + m, cpu));
});

afterAll(() => {
  // one line per token row / image string
  if (UPDATE)
    writeFileSync(
      FILE,
      JSON.stringify(got, null, 1).replace(
        /\[\s+([\d,\s]+?)\s+\]/g,
        (_m, inner: string) => `[${inner.replace(/\s+/g, '')}]`,
      ) + '\n',
    );
  for (const m of [...text.values(), ...image.values()]) m.dispose();
});

function levels(images: Float32Array): Uint8Array {
  return Uint8Array.from(images, (v) => Math.round(255 * v));
}

describe('golden samples (cpu, committed models, fixed seeds)', () => {
  it('the fixture exists (or is being written)', () => {
    expect(UPDATE || want !== null, `${FILE} is missing; regenerate it with GOLDEN_UPDATE=1`).toBe(true);
  });

  for (const c of TEXT) {
    it(`text: ${c.name}`, async () => {
      const m = text.get(c.model)!;
      const r =
        c.family === 'mdm'
          ? await sampleMdm(m, c.options)
          : c.family === 'asarm'
            ? await sampleAsarm(m, c.options)
            : await sampleMam(m, c.options);
      const rows = Array.from({ length: r.batch }, (_, b) =>
        Array.from(r.samples.subarray(b * r.length, (b + 1) * r.length)),
      );
      got.text[c.name] = { rows, nfe: r.nfe };
      if (!UPDATE) expect(got.text[c.name]).toEqual(want!.text[c.name]);
    });
  }

  for (const c of IMAGE) {
    it(`image: ${c.name}`, async () => {
      const m = image.get(c.model)!;
      const { hybrid, ...rest } = c.options;
      const r = await sampleDiffusion(m, {
        ...rest,
        previewEvery: 0,
        ...(hybrid ? { hybrid: { ...hybrid, student: image.get(c.student!)! } } : {}),
      });
      const q = levels(r.images);
      got.images[c.name] = { levels: Buffer.from(q).toString('base64'), nfe: r.nfe };
      if (UPDATE) return;
      const w = want!.images[c.name];
      expect(w, `no stored samples for "${c.name}"`).toBeDefined();
      expect(r.nfe).toBe(w.nfe);
      const ref = new Uint8Array(Buffer.from(w.levels, 'base64'));
      expect(q.length).toBe(ref.length);
      let worst = 0;
      for (let i = 0; i < q.length; i++) worst = Math.max(worst, Math.abs(q[i] - ref[i]));
      expect(worst, `largest pixel difference in 8-bit levels (tolerance ${IMAGE_LEVELS})`).toBeLessThanOrEqual(
        IMAGE_LEVELS,
      );
    });
  }
});
