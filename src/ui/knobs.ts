/**
 * The knobs `<sample-scope>` offers for a model and sampler, with the ranges the UI enforces before
 * a request is sent — all read from the knob registry (src/knobs/registry.ts). The engine checks again
 * (and checks combinations, e.g. guidance needs a class): whatever slips through comes back as its
 * typed error and is shown as such.
 */
import { SamplerConfigError } from '../errors.js';
import {
  appliesTo,
  checkKnobValue,
  faceOf,
  knobDef,
  KNOBS,
  parseKnobText,
  resolveKnob,
  SAMPLERS,
  type KnobName,
  type ModelKind,
} from '../knobs/registry.js';
import type { ModelInfo } from '../worker/protocol.js';

export { SAMPLERS, type KnobName, type ModelKind };

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

export function modelKind(info: ModelInfo): ModelKind | null {
  if (info.kind === 'denoiser') return 'image';
  if (info.kind !== 'text') return null;
  return info.attention === 'two-stream' || info.attention === 'causal' ? 'asarm' : 'mdm';
}

/**
 * The samplers a model takes, first the default: its kind's, but only sequential for a causal LM (an ONNX
 * causal graph, a converted GPT-2 or causal LLaMA), which has left-to-right conditionals only.
 */
export function samplersOf(info: ModelInfo): [string, string][] {
  const kind = modelKind(info);
  if (!kind) return [];
  return info.attention === 'causal' ? SAMPLERS[kind].filter(([s]) => s === 'sequential') : SAMPLERS[kind];
}

/** the classes a request may name (the null class "none" is "unconditional") */
export function conditionalClasses(info: ModelInfo): string[] {
  return info.classes.filter((c) => c !== 'none');
}

/** Knobs that apply to this model and sampler, in display order. */
export function knobsFor(info: ModelInfo, sampler: string): KnobSpec[] {
  const kind = modelKind(info);
  if (!kind) return [];
  const classes = conditionalClasses(info);
  const ctx = { sampler, maxLength: info.maxLength, vocab: info.vocab?.length, timesteps: info.timesteps };
  return KNOBS.filter((k) => k.input && appliesTo(k, kind, sampler) && (!k.needsClass || classes.length > 0)).map(
    (k): KnobSpec => {
      const face = faceOf(k, kind);
      const r = resolveKnob(k, kind, ctx);
      const options =
        k.name === 'sampler'
          ? samplersOf(info)
          : k.name === 'classLabel'
            ? ([['', 'none (unconditional)'], ...classes.map((c): [string, string] => [c, c])] as [string, string][])
            : k.options;
      // a bound the model fixes is worth saying in the help
      const help = typeof face.max === 'object' ? `${face.help}; ≤ ${r.max}` : face.help;
      return {
        name: k.name,
        attribute: k.attribute!,
        label: face.label,
        kind: k.type as KnobSpec['kind'],
        min: r.min,
        max: r.max,
        minOpen: k.minOpen,
        step: face.step,
        options,
        optional: k.optional,
        help,
      };
    },
  );
}

/** Lit `@property` options of a knob: its attribute, and Number for numeric knobs (src/knobs/registry.ts). */
export function knobProperty(name: KnobName): { type?: NumberConstructor; attribute: string } {
  const k = knobDef(name)!;
  return { ...(k.type === 'int' || k.type === 'number' ? { type: Number } : {}), attribute: k.attribute! };
}

/** A UI spec as the registry's resolved knob (errors name the attribute). */
const resolved = (spec: KnobSpec) => ({ ...spec, key: spec.attribute, type: spec.kind });

/**
 * Check one knob value against its spec; returns the error to show (a SamplerConfigError naming
 * the knob's attribute and range) or null.
 */
export function checkKnob(spec: KnobSpec, value: unknown): SamplerConfigError | null {
  return checkKnobValue(resolved(spec), value);
}

/** Parse an input's text as the knob's value: '' → undefined (default) for optional numeric knobs. */
export function parseKnob(spec: KnobSpec, text: string): unknown {
  return parseKnobText(resolved(spec), text);
}
