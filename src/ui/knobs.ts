/**
 * The knobs `<sample-scope>` offers for a model and sampler, with the ranges the UI enforces before
 * a request is sent. The engine checks again (and checks combinations, e.g. guidance needs a class):
 * whatever slips through comes back as its typed error and is shown as such.
 */
import { SamplerConfigError } from '../errors.js';
import type { ModelInfo } from '../worker/protocol.js';

export type KnobName =
  | 'sampler' | 'n' | 'length' | 'seed' | 'classLabel' | 'guidance' | 'temperature' | 'topP' | 'topK'
  | 'steps' | 'tokensPerStep' | 'draftK' | 'precision' | 'eta';

export interface KnobSpec {
  name: KnobName;
  /** the element attribute */
  attribute: string;
  label: string;
  kind: 'int' | 'number' | 'select';
  min?: number;
  max?: number;
  /** min is excluded (e.g. top-p > 0) */
  minOpen?: boolean;
  step?: number;
  /** select: [value, label] */
  options?: [string, string][];
  /** optional numeric knob: empty = the sampler's default */
  optional?: boolean;
  help: string;
}

export type ModelKind = 'mdm' | 'asarm' | 'image';

export function modelKind(info: ModelInfo): ModelKind | null {
  if (info.kind === 'denoiser') return 'image';
  if (info.kind !== 'text') return null;
  return info.attention === 'two-stream' ? 'asarm' : 'mdm';
}

export const SAMPLERS: Record<ModelKind, [string, string][]> = {
  mdm: [['fhs', 'first-hitting (FHS)'], ['ancestral', 'ancestral']],
  asarm: [['assd', 'speculative (ASSD)'], ['sequential', 'sequential']],
  image: [['ddim', 'DDIM'], ['ddpm', 'DDPM']],
};

/** the classes a request may name (the null class "none" is "unconditional") */
export function conditionalClasses(info: ModelInfo): string[] {
  return info.classes.filter((c) => c !== 'none');
}

/** Knobs that apply to this model and sampler, in display order. */
export function knobsFor(info: ModelInfo, sampler: string): KnobSpec[] {
  const kind = modelKind(info);
  if (!kind) return [];
  const classes = conditionalClasses(info);
  const out: KnobSpec[] = [
    { name: 'sampler', attribute: 'sampler', label: 'sampler', kind: 'select', options: SAMPLERS[kind], help: 'how samples are drawn' },
    { name: 'n', attribute: 'n', label: 'samples', kind: 'int', min: 1, max: 64, help: 'samples drawn in parallel' },
  ];
  if (kind !== 'image') out.push({ name: 'length', attribute: 'length', label: 'length', kind: 'int', min: 1, max: info.maxLength ?? 1, help: `characters per sample (≤ ${info.maxLength})` });
  out.push({ name: 'seed', attribute: 'seed', label: 'seed', kind: 'int', min: 0, max: Number.MAX_SAFE_INTEGER, help: 'same seed and knobs, same samples' });
  if (classes.length) {
    out.push({ name: 'classLabel', attribute: 'class-label', label: 'class', kind: 'select', options: [['', 'none (unconditional)'], ...classes.map((c): [string, string] => [c, c])], help: 'condition on a class' });
    out.push(kind === 'image'
      ? { name: 'guidance', attribute: 'guidance', label: 'guidance w', kind: 'number', min: 0, max: 20, step: 0.5, optional: true, help: 'ε_c + w(ε_c − ε_u); 0 = the conditional model (needs a class)' }
      : { name: 'guidance', attribute: 'guidance', label: 'guidance s', kind: 'number', min: 0, max: 20, step: 0.5, optional: true, help: 'l_u + s(l_c − l_u); 1 = the conditional model, 0 = unconditional (needs a class)' });
  }
  if (kind === 'image') {
    out.push({ name: 'steps', attribute: 'steps', label: 'steps', kind: 'int', min: 1, max: info.timesteps ?? 1000, optional: true, help: `denoising steps (≤ ${info.timesteps ?? 1000})` });
    if (sampler === 'ddim') out.push({ name: 'eta', attribute: 'eta', label: 'η', kind: 'number', min: 0, max: 1, step: 0.1, help: 'DDIM stochasticity: 0 deterministic, 1 = DDPM variance' });
    return out;
  }
  out.push(
    { name: 'temperature', attribute: 'temperature', label: 'temperature', kind: 'number', min: 0, max: 5, step: 0.05, help: '0 = greedy' },
    { name: 'topP', attribute: 'top-p', label: 'top-p', kind: 'number', min: 0, minOpen: true, max: 1, step: 0.05, help: 'nucleus mass in (0, 1]; 1 = off' },
    { name: 'topK', attribute: 'top-k', label: 'top-k', kind: 'int', min: 0, max: info.vocab?.length ?? 1000, help: '0 = off' },
  );
  if (kind === 'mdm' && sampler === 'ancestral') {
    out.push(
      { name: 'steps', attribute: 'steps', label: 'steps', kind: 'int', min: 1, max: 100000, optional: true, help: 'time-grid steps (used unless tokens/step is set)' },
      { name: 'tokensPerStep', attribute: 'tokens-per-step', label: 'tokens/step', kind: 'int', min: 1, max: info.maxLength ?? 1, optional: true, help: 'reveal exactly k tokens per pass instead of a time grid' },
    );
  }
  if (kind === 'asarm' && sampler === 'assd') out.push({ name: 'draftK', attribute: 'draft-k', label: 'draft k', kind: 'int', min: 2, max: info.maxLength ?? 2, help: 'tokens drafted per round' });
  out.push({ name: 'precision', attribute: 'precision', label: 'precision', kind: 'select', options: [['precise', 'precise'], ['naive-f32', 'naive fp32 Gumbel']], help: 'categorical draw precision' });
  return out;
}

/**
 * Check one knob value against its spec; returns the error to show (a SamplerConfigError naming
 * the knob's attribute and range) or null.
 */
export function checkKnob(spec: KnobSpec, value: unknown): SamplerConfigError | null {
  if (spec.kind === 'select') {
    const ok = spec.options!.some(([v]) => v === value);
    return ok ? null : new SamplerConfigError(spec.attribute, `one of ${spec.options!.map(([v]) => (v === '' ? '"" (none)' : v)).join(', ')}`, value);
  }
  if (value === undefined || value === null || (typeof value === 'number' && Number.isNaN(value) && spec.optional)) {
    return spec.optional ? null : new SamplerConfigError(spec.attribute, 'a number', value ?? null);
  }
  const x = value as number;
  const range = `${spec.kind === 'int' ? 'an integer' : 'a number'} in ${spec.minOpen ? '(' : '['}${spec.min}, ${spec.max}]`;
  if (typeof x !== 'number' || !Number.isFinite(x)) return new SamplerConfigError(spec.attribute, range, Number.isNaN(x) ? 'not a number' : x);
  if (spec.kind === 'int' && !Number.isInteger(x)) return new SamplerConfigError(spec.attribute, range, x);
  if ((spec.min !== undefined && (spec.minOpen ? x <= spec.min : x < spec.min)) || (spec.max !== undefined && x > spec.max)) return new SamplerConfigError(spec.attribute, range, x);
  return null;
}

/** Parse an input's text as the knob's value: '' → undefined (default) for optional numeric knobs. */
export function parseKnob(spec: KnobSpec, text: string): unknown {
  if (spec.kind === 'select') return text;
  const t = text.trim();
  if (t === '') return spec.optional ? undefined : NaN;
  return Number(t);
}
