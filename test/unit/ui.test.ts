// UI conventions and the knob rules <sample-scope> enforces before a request: every src/ui element
// file defines the tag it is named after and declares it in HTMLElementTagNameMap; nothing in
// src/ui imports src/gpu; knob ranges reject what the samplers would reject (top-p 0, draft 1,
// fractional steps, an unknown class) and accept their defaults; partial text maps '?' to [MASK]
// and names a character outside the vocabulary; the exact Ising log p matches a hand count.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SamplerConfigError } from '../../src/errors.js';
import { checkKnob, knobsFor, parseKnob } from '../../src/ui/knobs.js';
import { tokenizePartial } from '../../src/ui/mam-scorer.js';
import { isingExactLogp } from '../../src/ui/ising-grid.js';
import type { ModelInfo } from '../../src/worker/protocol.js';

const dir = new URL('../../src/ui/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));

describe('src/ui conventions', () => {
  const elements = files.filter((f) => readFileSync(new URL(f, dir), 'utf8').includes('@customElement('));
  it('has the five elements', () =>
    expect(elements.sort()).toEqual([
      'ising-grid.ts',
      'mam-scorer.ts',
      'pareto-explorer.ts',
      'sample-scope.ts',
      'your-model.ts',
    ]));
  it.each(elements)('%s defines and declares the tag it is named after', (f) => {
    const src = readFileSync(new URL(f, dir), 'utf8');
    const tag = f.replace(/\.ts$/, '');
    expect(src).toContain(`@customElement('${tag}')`);
    expect(src).toMatch(new RegExp(`interface HTMLElementTagNameMap \\{\\s*'${tag}':`));
    expect(src).not.toContain('unsafeHTML');
  });
  it.each(files)('%s does not import src/gpu', (f) => {
    expect(readFileSync(new URL(f, dir), 'utf8')).not.toMatch(/from '\.\.\/gpu\//);
  });
});

const mdm: ModelInfo = {
  id: 'm',
  name: 'text-mdm',
  kind: 'text',
  family: 'mdm',
  classes: ['moby', 'jargon', 'none'],
  vocab: ['a', 'b', '[MASK]'],
  maskId: 2,
  maxLength: 128,
  attention: 'bidirectional',
};
const asarm: ModelInfo = { ...mdm, name: 'text-asarm', attention: 'two-stream' };
const digits: ModelInfo = {
  id: 'd',
  name: 'digits',
  kind: 'denoiser',
  family: 'image-diffusion',
  classes: ['0', '1', 'none'],
  imageShape: [28, 28, 1],
  timesteps: 1000,
};
const spec = (info: ModelInfo, sampler: string, name: string) => knobsFor(info, sampler).find((k) => k.name === name)!;

describe('knob rules', () => {
  it('offer the knobs of each model and sampler', () => {
    const names = (i: ModelInfo, s: string) => knobsFor(i, s).map((k) => k.name);
    expect(names(mdm, 'fhs')).not.toContain('steps');
    expect(names(mdm, 'ancestral')).toEqual(expect.arrayContaining(['steps', 'tokensPerStep']));
    expect(names(asarm, 'assd')).toContain('draft');
    expect(names(asarm, 'sequential')).not.toContain('draft');
    expect(names(digits, 'ddim')).toEqual(['sampler', 'n', 'seed', 'classLabel', 'guidance', 'steps', 'eta', 'lambda']);
    expect(spec(mdm, 'fhs', 'classLabel').options!.map(([v]) => v)).toEqual(['', 'moby', 'jargon']);
  });
  it('reject out-of-range values with a SamplerConfigError naming the attribute', () => {
    const bad: [ModelInfo, string, string, unknown][] = [
      [mdm, 'fhs', 'topP', 0],
      [mdm, 'fhs', 'topP', 1.5],
      [mdm, 'fhs', 'temperature', -1],
      [mdm, 'fhs', 'length', 129],
      [mdm, 'fhs', 'n', 0],
      [mdm, 'fhs', 'seed', 1.5],
      [mdm, 'ancestral', 'steps', 2.5],
      [asarm, 'assd', 'draft', 1],
      [mdm, 'fhs', 'classLabel', 'poetry'],
      [digits, 'ddim', 'eta', 2],
      [digits, 'ddim', 'steps', 1001],
      [mdm, 'fhs', 'n', NaN],
      [mdm, 'fhs', 'precision', 'fp16'],
    ];
    for (const [info, sampler, name, value] of bad) {
      const e = checkKnob(spec(info, sampler, name), value);
      expect(e, `${name} = ${String(value)}`).toBeInstanceOf(SamplerConfigError);
      expect(e!.knob).toBe(spec(info, sampler, name).attribute);
    }
  });
  it('accept valid values and empty optional ones', () => {
    const good: [ModelInfo, string, string, unknown][] = [
      [mdm, 'fhs', 'topP', 1],
      [mdm, 'fhs', 'topP', 0.05],
      [mdm, 'fhs', 'temperature', 0],
      [mdm, 'fhs', 'length', 128],
      [mdm, 'fhs', 'guidance', undefined],
      [mdm, 'ancestral', 'tokensPerStep', undefined],
      [asarm, 'assd', 'draft', 2],
      [mdm, 'fhs', 'classLabel', ''],
      [digits, 'ddim', 'steps', 20],
    ];
    for (const [info, sampler, name, value] of good)
      expect(checkKnob(spec(info, sampler, name), value), `${name} = ${String(value)}`).toBeNull();
    expect(parseKnob(spec(mdm, 'fhs', 'guidance'), '')).toBeUndefined();
    expect(parseKnob(spec(mdm, 'fhs', 'n'), '')).toBeNaN();
    expect(parseKnob(spec(mdm, 'fhs', 'topP'), ' 0.9 ')).toBe(0.9);
  });
});

describe('partial text and Ising helpers', () => {
  it("maps '?' to [MASK], pads the window and names a bad character", () => {
    const r = tokenizePartial('a?b', ['a', 'b', '[MASK]'], 2, 5);
    expect(r).toEqual({ tokens: Uint32Array.from([0, 2, 1, 2, 2]), observed: 2 });
    expect(tokenizePartial('abz', ['a', 'b', '[MASK]'], 2, 5)).toEqual({
      bad: expect.stringContaining('"z" (position 3)'),
      index: 2,
    });
    expect(tokenizePartial('aaaaaa', ['a', 'b', '[MASK]'], 2, 5)).toHaveProperty('bad');
  });
  it('exact Ising log p: 2×2 grid, hand-counted bonds', () => {
    // + + / + −: bonds (0,1)=+1, (2,3)=−1, (0,2)=+1, (1,3)=−1 → Σ = 0; all + → Σ = 4
    expect(isingExactLogp([1, 1, 1, -1], 2, 0.5, 3)).toBeCloseTo(-3, 12);
    expect(isingExactLogp([1, 1, 1, 1], 2, 0.5, 3)).toBeCloseTo(0.5 * 4 - 3, 12);
  });
});

describe('<pareto-explorer> grid editor (pareto-form.ts) and axes (pareto-plots.ts)', () => {
  it('its model list comes from the engine’s description of the served models', async () => {
    const { explorerModels } = await import('../../src/ui/pareto-form.js');
    const { Engine } = await import('../../src/worker/engine.js');
    const names = readdirSync(new URL('../../models/', import.meta.url)).filter((n) =>
      existsSync(new URL(`../../models/${n}/manifest.json`, import.meta.url)),
    );
    const e = new Engine();
    const urls = names.map((n) => fileURLToPath(new URL(`../../models/${n}/`, import.meta.url)));
    const read = await e.describeModels([...urls, '/no/such/model/']);
    expect(read.map((m) => m.name).sort()).toEqual(names.sort());
    expect(e.listModels()).toEqual([]); // nothing loaded
    const listed = explorerModels(read.map((m) => ({ ...m, listed: names[urls.indexOf(m.source)] })));
    expect(listed['digits-diffusion']).toEqual({
      kind: 'image',
      classifier: 'digits-classifier',
      samplers: ['ddim', 'ddpm'],
      grid: { guidance: '1, 4', steps: '2, 4' },
      classes: '1, 7',
      perClass: 3,
    });
    expect(listed['text-mdm']).toEqual({
      kind: 'text',
      classifier: 'text-classifier',
      evaluator: 'text-asarm',
      samplers: ['ancestral', 'fhs'],
      grid: { guidance: '1, 3', steps: '4' },
      classes: 'moby, jargon',
      perClass: 3,
    });
    // generators only (not the few-step student, classifiers, AS-ARM or MaM models), each with its evaluators;
    // the guidance-distilled digits student is a class-conditional diffusion model like its teacher
    expect(Object.keys(listed).sort()).toEqual([
      'digits-diffusion',
      'digits-diffusion-onnx',
      'digits-guided',
      'text-mdm',
      'text-mdm-onnx',
    ]);
    const noClassifier = read.filter((m) => m.kind !== 'classifier').map((m) => ({ ...m, listed: m.name }));
    expect(explorerModels(noClassifier)['digits-diffusion']).toBeUndefined();
    e.dispose();
  });

  it('parses comma-separated knob values with the knob ranges; the offered knobs follow the sampler', async () => {
    const { gridKnobs, parseValues, SCOPE_ATTRIBUTE } = await import('../../src/ui/pareto-form.js');
    const knob = (kind: 'image' | 'text', sampler: string, name: string) =>
      gridKnobs(kind, sampler).find((k) => k.name === name)!;
    expect(gridKnobs('image', 'ddim').map((k) => k.name)).toEqual(['guidance', 'steps', 'eta', 'lambda']);
    expect(gridKnobs('image', 'ddpm').map((k) => k.name)).toEqual(['guidance', 'steps', 'lambda']);
    expect(gridKnobs('text', 'fhs').map((k) => k.name)).not.toContain('steps');
    expect(gridKnobs('text', 'ancestral').map((k) => k.name)).toContain('tokensPerStep');
    expect(parseValues(knob('image', 'ddim', 'guidance'), ' 0, 1.5 ,3,')).toEqual({ values: [0, 1.5, 3] });
    expect(parseValues(knob('image', 'ddim', 'steps'), '')).toEqual({ values: [] });
    for (const [k, text] of [
      [knob('image', 'ddim', 'steps'), '2, 0'],
      [knob('image', 'ddim', 'steps'), '2.5'],
      [knob('text', 'fhs', 'topP'), '0'],
      [knob('image', 'ddim', 'eta'), '1.1'],
      [knob('image', 'ddim', 'guidance'), '1, 1'],
      [knob('image', 'ddim', 'guidance'), 'abc'],
    ] as const) {
      expect(parseValues(k, text), `${k.name} ${text}`).toHaveProperty('error');
    }
    // every offered knob reaches <sample-scope> under one of its attributes
    for (const kind of ['image', 'text'] as const)
      for (const s of ['ddim', 'ancestral'])
        for (const k of gridKnobs(kind, s)) expect(SCOPE_ATTRIBUTE[k.name]).toBe(k.attribute);
  });
  it('ticks are round numbers covering the range', async () => {
    const { niceTicks } = await import('../../src/ui/pareto-plots.js');
    expect(niceTicks(0.37, 1.04)).toEqual([0.4, 0.6, 0.8, 1]);
    expect(niceTicks(1.2, 1.7)).toEqual([1.2, 1.3, 1.4, 1.5, 1.6, 1.7]);
    expect(niceTicks(-2.1, -1.45)).toEqual([-2, -1.8, -1.6]);
    expect(niceTicks(-2.1, -1.4)).toEqual([-2, -1.8, -1.6, -1.4]);
  });
});
