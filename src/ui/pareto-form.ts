/**
 * The Pareto explorer's form (src/ui/pareto-explorer.ts): the generator, its sampler, a comma-separated
 * list of values per knob of the registry (src/knobs/registry.ts: the numeric sweep knobs
 * `<sample-scope>` takes as inputs), classes, samples per class and seed; and the parsing that turns
 * the form's text into a sweep grid, range-checked the way the samplers would check it.
 */
import { html, nothing } from 'lit';
import { live } from 'lit/directives/live.js';
import { OpInputError } from '../errors.js';
import {
  appliesTo,
  faceOf,
  inRange,
  KNOBS,
  rangeText,
  resolveKnob,
  sweepKnobs,
  type ModelKind,
} from '../knobs/registry.js';
import { expandGrid } from '../sweep/spec.js';
import type { ModelInfo, ModelSummary } from '../worker/protocol.js';

/** A knob the grid editor offers: its sweep name, the `<sample-scope>` attribute it maps to, its range. */
export interface GridKnob {
  name: string;
  attribute: string;
  label: string;
  int: boolean;
  min: number;
  max: number;
  /** min excluded */
  minOpen?: boolean;
  help: string;
}

/** What the explorer knows of each generator: its evaluators, samplers, knobs and tiny defaults. */
export interface ExplorerModel {
  kind: 'image' | 'text';
  classifier: string;
  evaluator?: string;
  samplers: string[];
  /** default grid text per knob (one value = fixed) and classes */
  grid: Record<string, string>;
  classes: string;
  perClass: number;
}

/**
 * Knobs of the grid editor by model kind and sampler: the registry's numeric sweep knobs that `<sample-scope>` takes as
 * inputs.
 */
export function gridKnobs(kind: 'image' | 'text', sampler: string): GridKnob[] {
  const kinds: ModelKind[] = kind === 'image' ? ['image'] : ['mdm', 'asarm'];
  const out: GridKnob[] = [];
  for (const k of sweepKnobs(kinds, sampler)) {
    const on = kinds.find((m) => appliesTo(k, m, sampler))!;
    if (!k.input || k.grid === false || (k.type !== 'int' && k.type !== 'number')) continue;
    const r = resolveKnob(k, on, { sampler });
    out.push({
      name: k.name,
      attribute: k.attribute!,
      label: r.label,
      int: k.type === 'int',
      min: r.min!,
      max: r.max!,
      minOpen: k.minOpen,
      help: faceOf(k, on).help,
    });
  }
  return out;
}

/**
 * Sweep knob (and its older spellings) → `<sample-scope>` attribute, for every knob a scope can take (others are
 * reported as skipped).
 */
export const SCOPE_ATTRIBUTE: Record<string, string> = Object.fromEntries(
  KNOBS.filter((k) => k.sweep && k.attribute).flatMap((k) =>
    [k.name, ...(k.aliases ?? [])].map((n) => [n, k.attribute!]),
  ),
);

/**
 * What the explorer offers each kind of generator: its samplers (the first is the default), a tiny
 * default grid, the classes it starts with (where the model has them) and samples per class.
 */
const KIND_DEFAULTS: Record<ExplorerModel['kind'], Omit<ExplorerModel, 'kind' | 'classifier' | 'evaluator'>> = {
  image: { samplers: ['ddim', 'ddpm'], grid: { guidance: '1, 4', steps: '2, 4' }, classes: '1, 7', perClass: 3 },
  text: {
    samplers: ['ancestral', 'fhs'],
    grid: { guidance: '1, 3', steps: '4' },
    classes: 'moby, jargon',
    perClass: 3,
  },
};

/**
 * The generators the explorer can sweep among the engine's models (`describeModels` of the served
 * list), by the name each was listed under: every class-conditional image diffusion model and masked
 * diffusion text model that has a classifier over its classes among them (and, for text, an AS-ARM
 * evaluator with the same classes; text classifier and evaluator with the generator's vocabulary). Adding
 * a model folder adds it here.
 */
export function explorerModels(models: (ModelSummary & { listed: string })[]): Record<string, ExplorerModel> {
  const out: Record<string, ExplorerModel> = {};
  const covers = (m: ModelSummary, classes: string[]) => classes.every((c) => m.classes.includes(c));
  for (const g of models) {
    const kind =
      g.kind === 'denoiser' && g.family === 'image-diffusion'
        ? 'image'
        : g.kind === 'text' && g.family === 'mdm'
          ? 'text'
          : undefined;
    if (!kind) continue;
    const classes = g.classes.filter((c) => c !== 'none');
    // text: the classifier and the evaluator read the generator's token ids, so they share its vocabulary
    const same = (m: ModelSummary) => kind === 'image' || m.vocabulary === g.vocabulary;
    const classifier = models.find(
      (m) => m.kind === (kind === 'image' ? 'classifier' : 'text-classifier') && covers(m, classes) && same(m),
    );
    const evaluator = models.find((m) => m.kind === 'text' && m.family === 'asarm' && covers(m, classes) && same(m));
    if (!classifier || (kind === 'text' && !evaluator)) continue;
    const d = KIND_DEFAULTS[kind];
    const startWith = d.classes.split(', ').every((c) => classes.includes(c))
      ? d.classes
      : classes.slice(0, 2).join(', ');
    out[g.listed] = {
      ...d,
      kind,
      classifier: classifier.listed,
      ...(kind === 'text' ? { evaluator: evaluator!.listed } : {}),
      classes: startWith,
    };
  }
  return out;
}

/** Parse one knob's comma-separated values; range-checked, no duplicates. Empty text = not set. */
export function parseValues(k: GridKnob, text: string): { values: number[] } | { error: string } {
  const parts = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const values: number[] = [];
  const knob = { type: k.int ? 'int' : 'number', min: k.min, max: k.max, minOpen: k.minOpen } as const;
  for (const p of parts) {
    const x = Number(p);
    if (!inRange(knob, x)) return { error: `${k.label}: "${p}" — need ${rangeText(knob)}, comma-separated` };
    if (values.includes(x)) return { error: `${k.label}: ${x} is listed twice` };
    values.push(x);
  }
  return { values };
}

/** What the form shows and calls back; the text of every input stays in the element. */
export interface FormView {
  /** the generators to choose from (undefined while the engine lists them) */
  models?: Record<string, ExplorerModel>;
  model: string;
  /** the sampler in use (the attribute, or the model's first) */
  sampler: string;
  gridText: Record<string, string>;
  classesText: string;
  perClassText: string;
  seed: number;
  invalid: Map<string, string>;
  busy: boolean;
  setModel(model: string): void;
  setSampler(sampler: string): void;
  gridInput(k: GridKnob, text: string): void;
  setClasses(text: string): void;
  setPerClass(text: string): void;
  setSeed(seed: number): void;
}

/** The grid the form describes (knobs with values), or its input errors by field. */
export function parseGrid(
  v: Pick<FormView, 'models' | 'model' | 'sampler' | 'gridText' | 'classesText' | 'perClassText'>,
): { grid: Record<string, number[]>; classes: string[]; perClass: number } | { errors: Map<string, string> } {
  const errors = new Map<string, string>();
  const grid: Record<string, number[]> = {};
  const m = v.models?.[v.model];
  if (!m) {
    const known = Object.keys(v.models ?? {});
    errors.set(
      'model',
      `unknown model "${v.model}" (the explorer knows ${known.length ? known.join(', ') : 'none: no generator with a classifier is served'})`,
    );
    return { errors };
  }
  for (const k of gridKnobs(m.kind, v.sampler)) {
    const r = parseValues(k, v.gridText[k.name] ?? '');
    if ('error' in r) errors.set(k.name, r.error);
    else if (r.values.length) grid[k.name] = r.values;
  }
  const classes = v.classesText
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!classes.length) errors.set('classes', 'name at least one class');
  const perClass = Number(v.perClassText);
  if (!Number.isInteger(perClass) || perClass < 2 || perClass > 64)
    errors.set('perClass', 'samples per class: an integer in [2, 64]');
  else if (classes.length * perClass <= 5)
    errors.set('perClass', `classes × per class must exceed 5 (PRDC's k), got ${classes.length * perClass}`);
  return errors.size ? { errors } : { grid, classes, perClass };
}

/** settings the form's grid expands to (0 while it has errors) */
function settingsCount(v: FormView): number {
  const g = parseGrid(v);
  return 'errors' in g ? 0 : expandGrid(g.grid).length;
}

export function renderForm(v: FormView) {
  const m = v.models?.[v.model];
  const names = v.models ? Object.keys(v.models) : [v.model];
  const knobs = m ? gridKnobs(m.kind, v.sampler) : [];
  const n = settingsCount(v);
  const classMsg = v.invalid.get('classes'),
    perMsg = v.invalid.get('perClass');
  return html`<fieldset ?disabled=${v.busy}>
    <legend>Sweep</legend>
    <div class="form">
      <label for="model">model
        <select id="model" .value=${live(v.model)} @change=${(e: Event) => v.setModel((e.target as HTMLSelectElement).value)}>
          ${names.map((k) => html`<option value=${k} ?selected=${k === v.model}>${k}</option>`)}
        </select></label>
      <label for="sampler">sampler
        <select id="sampler" .value=${live(v.sampler)} @change=${(e: Event) => v.setSampler((e.target as HTMLSelectElement).value)}>
          ${(m?.samplers ?? []).map((s) => html`<option value=${s} ?selected=${s === v.sampler}>${s}</option>`)}
        </select></label>
      ${knobs.map((k) => {
        const msg = v.invalid.get(k.name);
        return html`<label for=${`g-${k.name}`} title=${k.help}>${k.label} values
          <input id=${`g-${k.name}`} name=${k.name} type="text" inputmode="decimal" placeholder="default" autocomplete="off"
            aria-invalid=${msg ? 'true' : 'false'} aria-describedby="grid-hint" .value=${live(v.gridText[k.name] ?? '')} @input=${(e: Event) => v.gridInput(k, (e.target as HTMLInputElement).value)}>
          ${msg ? html`<span class="msg" role="alert">${msg}</span>` : nothing}</label>`;
      })}
      <label for="classes">classes
        <input id="classes" type="text" autocomplete="off" aria-invalid=${classMsg ? 'true' : 'false'} .value=${live(v.classesText)} @input=${(e: Event) => v.setClasses((e.target as HTMLInputElement).value)}>
        ${classMsg ? html`<span class="msg" role="alert">${classMsg}</span>` : nothing}</label>
      <label for="per-class">samples per class
        <input id="per-class" type="number" min="2" max="64" step="1" aria-invalid=${perMsg ? 'true' : 'false'} .value=${live(v.perClassText)} @input=${(e: Event) => v.setPerClass((e.target as HTMLInputElement).value)}>
        ${perMsg ? html`<span class="msg" role="alert">${perMsg}</span>` : nothing}</label>
      <label for="seed">seed
        <input id="seed" type="number" min="0" step="1" .value=${live(String(v.seed))} @input=${(e: Event) => v.setSeed(Number((e.target as HTMLInputElement).value))}>
      </label>
    </div>
    <p class="hint" id="grid-hint">Comma-separated values per knob (one value = fixed, empty = the sampler's default): ${n ? `${n} setting${n === 1 ? '' : 's'}` : 'fix the marked inputs'}. Evaluated by ${m ? [m.classifier, m.evaluator].filter(Boolean).join(' and ') : '—'}, loaded automatically.</p>
  </fieldset>`;
}

/** A class by name, or by index among the conditional classes. */
export function classId(info: ModelInfo, names: string[], c: string): number {
  const byName = names.indexOf(c);
  if (byName >= 0) return info.classes.indexOf(c);
  if (/^\d+$/.test(c) && Number(c) < names.length) return info.classes.indexOf(names[Number(c)]);
  throw new OpInputError('sweep', `class "${c}" is not one of ${info.name}'s: ${names.join(', ')}`);
}
