/**
 * The CLI's knob flags, read from the knob registry (src/knobs/registry.ts): which flags a model kind
 * and sampler take, their parsing and range checks (a SamplerConfigError naming the flag), their
 * defaults, and the `--help` text that lists them.
 */
import {
  appliesTo,
  checkKnobValue,
  faceOf,
  KNOBS,
  MODEL_KINDS,
  parseKnobText,
  rangeText,
  resolveKnob,
  SAMPLERS,
  type KnobContext,
  type KnobDef,
  type ModelKind,
} from '../knobs/registry.js';
import { UsageError } from '../errors.js';

export { UsageError };

/** flags that are not knobs, or knobs the command reads itself (sampler, class) */
const SPECIAL = new Set(['sampler', 'classLabel']);

/**
 * The knob flags given for a model kind and sampler, parsed and range-checked, by registry name.
 * A knob flag that does not apply to this kind and sampler is a UsageError (it would be ignored).
 */
export function readKnobFlags(
  flags: Map<string, string>,
  kind: ModelKind,
  sampler: string,
  ctx: KnobContext,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KNOBS) {
    if (!k.flag || SPECIAL.has(k.name)) continue;
    const text = flags.get(k.flag);
    if (text === undefined) continue;
    if (!appliesTo(k, kind, sampler))
      throw new UsageError(`--${k.flag} does not apply to the ${sampler} sampler (${usedBy(k)})`);
    const r = resolveKnob(k, kind, { ...ctx, sampler }, k.flag);
    const v = parseKnobText(r, text);
    const e = checkKnobValue(r, v);
    if (e) throw e;
    if (v !== undefined) out[k.name] = v;
  }
  return out;
}

/** "mdm: ancestral; image: every sampler" */
function usedBy(k: KnobDef): string {
  return MODEL_KINDS.filter((m) => k.uses[m])
    .map((m) => `${m}: ${k.uses[m] === '*' ? 'every sampler' : (k.uses[m] as string[]).join(', ')}`)
    .join('; ');
}

function defaultText(k: KnobDef, kind: ModelKind): string {
  const d = faceOf(k, kind).default;
  if (d === undefined) return '';
  if (typeof d === 'object')
    return ` (default ${Object.entries(d)
      .map(([s, v]) => `${s} ${v}`)
      .join(', ')})`;
  return ` (default ${String(d)})`;
}

/** The knob flags of one model kind, one line each: flag, value, help, default, range. */
export function knobFlagHelp(kind: ModelKind): string[] {
  return KNOBS.filter((k) => k.flag && k.uses[kind]).map((k) => {
    const f = faceOf(k, kind);
    const r = resolveKnob(k, kind);
    const value =
      k.name === 'sampler'
        ? SAMPLERS[kind].map(([s]) => s).join('|')
        : k.type === 'select' && k.options
          ? k.options.map(([v]) => v).join('|')
          : k.name === 'classLabel'
            ? 'NAME'
            : k.type === 'int'
              ? 'N'
              : 'X';
    const range =
      (k.type === 'int' || k.type === 'number') && r.min !== undefined
        ? `; ${rangeText(r)}${typeof f.max === 'object' ? ` (bounded by the model's ${f.max.model})` : ''}`
        : '';
    const only = k.uses[kind] === '*' ? '' : ` [${(k.uses[kind] as string[]).join(', ')}]`;
    return `  --${k.flag} ${value}${only}  ${f.help}${defaultText(k, kind)}${range}`;
  });
}
