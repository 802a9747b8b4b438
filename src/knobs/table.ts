/**
 * The README's knob table, rendered from the registry (the README holds it between the markers
 * below; `npx tsx scripts/knob-table.ts --write` rewrites it, test/unit/knob-table.test.ts fails when
 * it is stale).
 */
import { KNOBS, MODEL_KINDS, type Bound, type KnobDef, type ModelKind } from './registry.js';

export const TABLE_START =
  '<!-- knob table: generated from src/knobs/registry.ts by scripts/knob-table.ts; do not edit -->';
export const TABLE_END = '<!-- end of knob table -->';

const code = (s: string | undefined) => (s ? `\`${s}\`` : '—');

function bound(b: Bound | undefined): string {
  if (b === undefined) return '';
  if (b === Number.MAX_SAFE_INTEGER) return '2^53 − 1';
  return typeof b === 'number' ? String(b) : `model ${b.model}`;
}

function range(k: KnobDef, kind: ModelKind): string {
  if (k.type === 'select')
    return k.options ? k.options.map(([v]) => v).join(' · ') : k.name === 'sampler' ? 'by model' : 'model classes';
  if (k.type === 'boolean' || k.type === 'text') return k.type;
  const f = { ...k, ...k.byKind?.[kind] };
  const lo = `${k.minOpen ? '(' : '['}${bound(f.min)}`;
  const hi = f.max === undefined ? '∞)' : `${bound(f.max)}]`;
  const by = Object.entries(k.minBySampler ?? {})
    .map(([s, m]) => `; ${s} ≥ ${m}`)
    .join('');
  return `${k.type === 'int' ? 'int' : 'number'} ${lo}, ${hi}${by}`;
}

function value(d: KnobDef['default']): string {
  if (d === undefined) return '—';
  if (typeof d === 'object')
    return Object.entries(d)
      .map(([s, v]) => `${s} ${v}`)
      .join(', ');
  return String(d);
}

/** per kind where the knob differs by kind ("mdm, asarm: …; image: …"), else once */
function perKind(k: KnobDef, f: (kind: ModelKind) => string): string {
  const kinds = MODEL_KINDS.filter((m) => k.uses[m]);
  const parts = new Map<string, ModelKind[]>();
  for (const m of kinds) parts.set(f(m), [...(parts.get(f(m)) ?? []), m]);
  if (parts.size === 1) return [...parts.keys()][0];
  return [...parts].map(([v, ms]) => `${ms.join(', ')}: ${v}`).join('; ');
}

function usedBy(k: KnobDef): string {
  return MODEL_KINDS.filter((m) => k.uses[m])
    .map((m) => (k.uses[m] === '*' ? m : `${m} (${(k.uses[m] as string[]).join(', ')})`))
    .join(', ');
}

/** The Markdown table of every knob, markers included. */
export function knobTable(): string {
  const rows = KNOBS.map((k) => {
    const names = [k.name, ...(k.aliases ?? []).map((a) => `${a} (older)`)].join(', ');
    return `| ${names} | ${code(k.attribute)} | ${code(k.flag && `--${k.flag}`)} | ${perKind(k, (m) => range(k, m))} | ${perKind(k, (m) => value({ ...k, ...k.byKind?.[m] }.default))} | ${usedBy(k)} | ${k.sweep ? 'yes' : 'no'} | ${perKind(k, (m) => ({ ...k, ...k.byKind?.[m] }).help)} |`;
  });
  return [
    TABLE_START,
    '| knob (sweep / option name) | `<sample-scope>` attribute | CLI flag | range | default | used by | sweep | meaning |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    TABLE_END,
  ].join('\n');
}

/** `text` with the part between the markers replaced by the current table (the markers must be there). */
export function withKnobTable(text: string): string {
  const a = text.indexOf(TABLE_START),
    b = text.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error('the README has no knob table markers');
  return text.slice(0, a) + knobTable() + text.slice(b + TABLE_END.length);
}
