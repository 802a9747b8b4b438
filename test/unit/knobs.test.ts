// The knob registry (src/knobs/registry.ts): names, attributes, flags and older spellings are unique;
// the defaults it declares are the ones the samplers fill in when a knob is left out (one default per
// knob: the UI, the CLI and the library agree); the CLI reads its flags through it (parsing, range
// checks naming the flag, flags that do not apply refused); sweeps accept the older spellings of
// persisted specs and records, and every knob of the committed sweep results is a registry knob.
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { cliHelp } from '../../src/cli/commands.js';
import { readKnobFlags, UsageError } from '../../src/cli/knob-flags.js';
import { SamplerConfigError } from '../../src/errors.js';
import { imageKnobOptions } from '../../src/knobs/options.js';
import { canonicalKnob, defaultOf, KNOBS, knobDefault, MODEL_KINDS, sweepKnobs } from '../../src/knobs/registry.js';
import { parseJsonLines } from '../../src/sweep/records.js';
import { loadModel } from '../../src/models/index.js';
import { sampleAsarm } from '../../src/samplers/asarm.js';
import { sampleDiffusion } from '../../src/samplers/diffusion.js';
import { sampleMdm } from '../../src/samplers/mdm.js';
import { GmmDenoiser } from '../util/gmm.js';
import { FIXTURES } from '../util/models.js';

describe('knob registry', () => {
  it('declares each name, older spelling, attribute and flag once', () => {
    const names = KNOBS.flatMap((k) => [k.name, ...(k.aliases ?? [])]);
    expect(new Set(names).size).toBe(names.length);
    const attributes = KNOBS.flatMap((k) => (k.attribute ? [k.attribute] : []));
    expect(new Set(attributes).size).toBe(attributes.length);
    const flags = KNOBS.flatMap((k) => (k.flag ? [k.flag] : []));
    expect(new Set(flags).size).toBe(flags.length);
    for (const k of KNOBS) {
      expect(
        MODEL_KINDS.some((m) => k.uses[m]),
        `${k.name} is used somewhere`,
      ).toBe(true);
      for (const m of Object.keys(k.byKind ?? {}))
        expect(k.uses[m as 'mdm'], `${k.name}: a face for ${m}, which does not use it`).toBeDefined();
      if (k.input)
        expect(
          k.attribute && ['int', 'number', 'select'].includes(k.type),
          `${k.name}: an input needs an attribute and a type an input shows`,
        ).toBeTruthy();
    }
  });

  it('one seed default everywhere: 1', () => {
    expect(defaultOf('seed')).toBe(1);
  });

  it('its defaults are what the samplers fill in', async () => {
    const cpu = new CpuBackend();
    const mdm = await loadModel(FIXTURES + 'tiny-bidir', cpu);
    const asarm = await loadModel(FIXTURES + 'tiny-twostream', cpu);
    try {
      const common = { batch: 1, length: 4, seed: defaultOf<number>('seed') };
      const fhs = await sampleMdm(mdm, { ...common, sampler: 'fhs' });
      for (const k of ['temperature', 'topK', 'topP', 'precision', 'guidance'] as const)
        expect(fhs.knobs[k], k).toBe(knobDefault(k, 'mdm', 'fhs'));
      const grid = await sampleMdm(mdm, { ...common, sampler: 'ancestral', steps: 2 });
      expect(grid.knobs.reuseLogits).toBe(knobDefault('reuseLogits', 'mdm', 'ancestral'));
      const byK = await sampleMdm(mdm, { ...common, sampler: 'ancestral', tokensPerStep: 2 });
      expect(byK.knobs.order).toBe(knobDefault('order', 'mdm', 'ancestral'));
      const assd = await sampleAsarm(asarm, { ...common, sampler: 'assd' });
      expect(assd.knobs.draft).toBe(knobDefault('draft', 'asarm', 'assd'));
      expect(assd.knobs.guidance).toBe(knobDefault('guidance', 'asarm', 'assd'));
      const img = await sampleDiffusion(new GmmDenoiser(cpu), {
        sampler: 'ddim',
        steps: 2,
        batch: 1,
        seed: 1,
        previewEvery: 0,
      });
      for (const k of ['eta', 'guidance', 'noiseTemperature', 'clip'] as const)
        expect(img.knobs[k], k).toBe(knobDefault(k, 'image', 'ddim'));
    } finally {
      mdm.dispose();
      asarm.dispose();
    }
  });
});

describe('CLI knob flags', () => {
  const flags = (o: Record<string, string>) => new Map(Object.entries(o));
  const ctx = { maxLength: 16, vocab: 30 };
  it('parse and range-check through the registry, naming the flag', () => {
    expect(
      readKnobFlags(
        flags({ n: '3', 'top-p': '0.9', steps: '5', precision: 'naive-f32', model: 'x' }),
        'mdm',
        'ancestral',
        ctx,
      ),
    ).toEqual({ n: 3, topP: 0.9, steps: 5, precision: 'naive-f32' });
    expect(readKnobFlags(flags({ draft: '3' }), 'asarm', 'assd', ctx)).toEqual({ draft: 3 });
    for (const [f, v] of [
      ['top-p', '0'],
      ['length', '17'],
      ['top-k', '31'],
      ['n', '2.5'],
      ['temperature', 'warm'],
      ['precision', 'fp16'],
    ]) {
      const e = (() => {
        try {
          return readKnobFlags(flags({ [f]: v }), 'mdm', 'ancestral', ctx);
        } catch (x) {
          return x;
        }
      })();
      expect(e, `--${f} ${v}`).toBeInstanceOf(SamplerConfigError);
      expect((e as SamplerConfigError).knob).toBe(f);
    }
  });
  it('--help lists every knob flag with its default', () => {
    const help = cliHelp();
    for (const k of KNOBS.filter((x) => x.flag)) expect(help, k.name).toContain(`--${k.flag} `);
    expect(help).toMatch(/--seed N .*\(default 1\)/);
  });
  it('refuse a knob the sampler does not use (it would be ignored)', () => {
    expect(() => readKnobFlags(flags({ draft: '3' }), 'mdm', 'fhs', ctx)).toThrow(UsageError);
    expect(() => readKnobFlags(flags({ eta: '0.5' }), 'image', 'ddpm', { timesteps: 1000 })).toThrow(UsageError);
    expect(() => readKnobFlags(flags({ temperature: '0.5' }), 'image', 'ddim', { timesteps: 1000 })).toThrow(
      UsageError,
    );
  });
});

describe('sweep knobs', () => {
  it('read older spellings: hybridBaseSteps is baseSteps', () => {
    expect(canonicalKnob('hybridBaseSteps')).toBe('baseSteps');
    expect(imageKnobOptions({ hybridBaseSteps: 3, guidanceHi: 500, guidance: 2 }, 1000)).toEqual({
      options: { guidance: 2 },
      guidanceInterval: [0, 500],
      hybrid: { baseSteps: 3, studentSteps: defaultOf('studentSteps') },
    });
  });
  it('every knob of the committed sweep results is a sweep knob of its kind', () => {
    const dir = new URL('../../bench/results/', import.meta.url);
    const files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThan(0);
    const known = new Set(sweepKnobs(MODEL_KINDS).flatMap((k) => [k.name, ...(k.aliases ?? [])]));
    for (const f of files)
      for (const r of parseJsonLines(readFileSync(new URL(f, dir), 'utf8')))
        for (const k of Object.keys(r.knobs)) expect(known, `${f}: ${k}`).toContain(k);
  });
});
