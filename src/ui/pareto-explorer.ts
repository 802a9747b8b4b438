/**
 * `<pareto-explorer>`: sweep a model's sampler knobs in the engine worker and see the trade-offs.
 * Choose a model, a sampler and a grid of knob values (comma-separated per knob); the sweep runs in
 * the shared engine worker (src/sweep/run.ts: fixed seeds, the classifier — and for text the
 * AS-ARM evaluator — loaded automatically), with a progress bar and Stop. Every finished setting
 * appears at once as a point in three scatter plots, one per pair of axes (consistency × diversity,
 * consistency × realism, diversity × realism, all higher-is-better), with that pair's non-dominated
 * front drawn through its points; a table lists every setting and marks the 3-D front. Hovering or
 * focusing a point shows its knobs, axes and a few of its samples (thumbnails / text); clicking it,
 * or Enter, sets those knobs on the `<sample-scope>` named by `scope`. A saved JSON-lines sweep (the
 * CLI's `sweep`/`merge` output) can be loaded and plotted without running anything. Export: the
 * records as JSON lines, the plots as SVG or PNG.
 *
 * ```html
 * <pareto-explorer model="digits-diffusion" scope="my-scope" backend="cpu"></pareto-explorer>
 * <sample-scope id="my-scope" model="digits-diffusion" class-label="3"></sample-scope>
 * ```
 *
 * The plots are SVG rendered by Lit's templates, not a charting library: a few hundred points at
 * most, no dependency, nothing evaluated from strings (the pages' CSP has no `unsafe-eval` and no
 * inline styles — every visual property is an SVG attribute, so the exported SVG is self-contained),
 * and each point is a real focusable element with an accessible name. Keyboard: Tab reaches one
 * point per plot, arrow keys move along the plot (sorted by x), Home/End jump, Enter/Space choose.
 *
 * Events (bubbling, composed): `sweep-start` {total}, `sweep-record` {record, done, total},
 * `sweep-done` {records}, `sweep-error` {name, code, message} (Stop is an AbortError),
 * `sweep-loaded` {records}, `point-select` {index, knobs, attributes, skipped}.
 */
import { LitElement, css, html, nothing, svg, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import { OpInputError } from '../errors.js';
import { AXES, expandGrid, fromBase64, mergeSweeps, parseJsonLines, sweepFronts, toJsonLine, type Axis, type KnobValue, type SweepRecord, type SweepSpec } from '../sweep/spec.js';
import type { BackendPreference, ModelInfo } from '../worker/protocol.js';
import { engineFor, errorDetail, modelFor, resolveModelUrl, rethrow } from './engine-host.js';
import { appliesTo, defaultOf, faceOf, inRange, KNOBS, rangeText, resolveKnob, sweepKnobs, type ModelKind } from '../knobs/registry.js';
import { conditionalClasses } from './knobs.js';
import { boxes } from './styles.js';

export type ExplorerState = 'idle' | 'loading' | 'running' | 'done' | 'stopped' | 'error';

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

/** Knobs of the grid editor by model kind and sampler: the registry's numeric sweep knobs that `<sample-scope>` takes as inputs. */
export function gridKnobs(kind: 'image' | 'text', sampler: string): GridKnob[] {
  const kinds: ModelKind[] = kind === 'image' ? ['image'] : ['mdm', 'asarm'];
  const out: GridKnob[] = [];
  for (const k of sweepKnobs(kinds, sampler)) {
    const on = kinds.find((m) => appliesTo(k, m, sampler))!;
    if (!k.input || k.grid === false || (k.type !== 'int' && k.type !== 'number')) continue;
    const r = resolveKnob(k, on);
    out.push({ name: k.name, attribute: k.attribute!, label: r.label, int: k.type === 'int', min: r.min!, max: r.max!, minOpen: k.minOpen, help: faceOf(k, on).help });
  }
  return out;
}

/** Sweep knob (and its older spellings) → `<sample-scope>` attribute, for every knob a scope can take (others are reported as skipped). */
export const SCOPE_ATTRIBUTE: Record<string, string> = Object.fromEntries(
  KNOBS.filter((k) => k.sweep && k.attribute).flatMap((k) => [k.name, ...(k.aliases ?? [])].map((n) => [n, k.attribute!])),
);

export const EXPLORER_MODELS: Record<string, ExplorerModel> = {
  'digits-diffusion': { kind: 'image', classifier: 'digits-classifier', samplers: ['ddim', 'ddpm'], grid: { guidance: '1, 4', steps: '2, 4' }, classes: '1, 7', perClass: 3 },
  'text-mdm': { kind: 'text', classifier: 'text-classifier', evaluator: 'text-asarm', samplers: ['ancestral', 'fhs'], grid: { guidance: '1, 3', steps: '4' }, classes: 'moby, jargon', perClass: 3 },
};

/** Parse one knob's comma-separated values; range-checked, no duplicates. Empty text = not set. */
export function parseValues(k: GridKnob, text: string): { values: number[] } | { error: string } {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
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

/** Round-number ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 4): number[] {
  const span = hi - lo || 1;
  const raw = span / n, mag = 10 ** Math.floor(Math.log10(raw)), f = raw / mag;
  const step = (f >= 7.5 ? 10 : f >= 3.5 ? 5 : f >= 1.5 ? 2 : 1) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + span * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

const fmt = (x: number) => (Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : 'n/a');
/** tick labels with as many decimals as their spacing needs */
const tickFmt = (ts: number[]) => (t: number) => t.toFixed(ts.length > 1 ? Math.max(0, Math.ceil(-Math.log10(ts[1] - ts[0]) - 1e-9)) : 2);
const knobText = (knobs: Record<string, KnobValue>) => Object.entries(knobs).map(([k, v]) => `${k} ${v}`).join(', ');

/** The three panels: x axis, y axis. */
const PAIRS: [Axis, Axis][] = [['consistency', 'diversity'], ['consistency', 'realism'], ['diversity', 'realism']];
const FRONT_3D = AXES.join('×');
const W = 340, H = 260, M = { l: 50, r: 14, t: 14, b: 42 };
const INK = '#1d2430', ACCENT = '#2456c9', PICK = '#d9480f', GRID = '#e3e7ee';

@customElement('pareto-explorer')
export class ParetoExplorer extends LitElement {
  /** Generator: "digits-diffusion" or "text-mdm" (names under `models-base`). */
  @property() model = 'digits-diffusion';
  /** Where model names are looked up (default "/models/", relative to the page). */
  @property({ attribute: 'models-base' }) modelsBase = '/models/';
  /** Sampler; empty = the model's first (ddim / ancestral). */
  @property() sampler = '';
  /** Backend of the engine: 'auto', 'webgpu' or 'cpu' (shared with the page's other elements that ask for the same). */
  @property() backend: BackendPreference = 'auto';
  /** Initial knob grid, e.g. "guidance=1,4; steps=2,4"; empty = the model's tiny default. */
  @property() grid = '';
  /** Classes by name or index, comma-separated; empty = the model's default. */
  @property() classes = '';
  /** Samples per class and setting (≥ 2; classes × per-class must exceed PRDC's k = 5). */
  @property({ type: Number, attribute: 'per-class' }) perClass?: number;
  /** The seed of every setting. */
  @property({ type: Number }) seed = defaultOf<number>('seed');
  /** Samples kept per setting for the thumbnails (0 = none). */
  @property({ type: Number, attribute: 'keep-samples' }) keepSamples = 4;
  /** A title shown above the form; empty = none. */
  @property() heading = 'Pareto explorer';
  /** The id of a `<sample-scope>` (in the same document or shadow root) that a chosen point's knobs are set on. */
  @property() scope = '';
  /** (read-only) idle | loading | running | done | stopped | error */
  @property({ reflect: true }) state: ExplorerState = 'idle';
  /** The records shown: a run's, or a loaded file's, in setting order. */
  @property({ attribute: false }) records: SweepRecord[] = [];

  @state() private gridText: Record<string, string> = {};
  @state() private classesText = '';
  @state() private perClassText = '';
  @state() private invalid = new Map<string, string>();
  @state() private error?: { name: string; message: string };
  @state() private total = 0;
  @state() private elapsedMs = 0;
  @state() private hovered?: number;
  @state() private selected?: number;
  @state() private focusPos: Record<string, number> = {};
  @state() private source = '';
  @state() private note = '';
  /** the records shown come from a file, not a run */
  @state() private loaded = false;
  /** classes (ids → names) and seed of the sweep shown, when known (a run; not a loaded file) */
  private shown?: { model: string; sampler?: string; classIds?: number[]; classNames?: string[]; seed?: number; kind: 'image' | 'text' };
  private controller?: AbortController;
  private timer?: ReturnType<typeof setInterval>;
  private thumbs = new WeakMap<SweepRecord, string[]>();

  static override styles = [boxes, css`
    :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2430; border: 1px solid #dde1e8; border-radius: 8px; padding: 0.8rem 1rem; background: #fff; }
    :host([hidden]) { display: none; }
    h3 { margin: 0 0 0.4rem; font-size: 1rem; }
    fieldset { border: 1px solid #dde1e8; border-radius: 6px; margin: 0.4rem 0; padding: 0.4rem 0.7rem 0.6rem; }
    legend { font-size: 0.85rem; color: #445; }
    .form { display: grid; grid-template-columns: repeat(auto-fill, minmax(10rem, 1fr)); gap: 0.4rem 0.8rem; }
    label { display: flex; flex-direction: column; font-size: 0.8rem; color: #445; }
    input, select { font: inherit; font-size: 0.9rem; padding: 0.15rem 0.3rem; }
    input[aria-invalid='true'] { outline: 2px solid #c0392b; }
    .msg { color: #b42318; font-size: 0.75rem; }
    .hint { color: #556; font-size: 0.8rem; margin: 0.3rem 0 0; }
    .bar { display: flex; gap: 0.5rem; align-items: center; margin: 0.5rem 0; flex-wrap: wrap; }
    button { font: inherit; padding: 0.3rem 0.9rem; border-radius: 5px; border: 1px solid #8893a6; background: #f2f4f8; cursor: pointer; }
    button.primary { background: #2456c9; color: #fff; border-color: #2456c9; }
    button:disabled { opacity: 0.5; cursor: default; }
    button.small { padding: 0.05rem 0.5rem; font-size: 0.8rem; }
    progress { flex: 1 1 8rem; min-width: 6rem; height: 0.8rem; }
    .stats { font-variant-numeric: tabular-nums; color: #334; font-size: 0.85rem; }
    .file { display: inline-flex; flex-direction: row; gap: 0.4rem; align-items: center; font-size: 0.85rem; }
    .plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 0.6rem; margin: 0.5rem 0; }
    figure { margin: 0; }
    figcaption { font-size: 0.8rem; color: #445; text-align: center; }
    svg.plot { width: 100%; height: auto; display: block; }
    svg.plot .pt { cursor: pointer; }
    svg.plot .pt:focus { outline: none; }
    svg.plot .pt:focus-visible { stroke: #d9480f; stroke-width: 3; }
    .detail { display: grid; grid-template-columns: minmax(14rem, 1fr) 2fr; gap: 0.8rem; border: 1px solid #eef0f4; border-radius: 6px; padding: 0.5rem 0.7rem; min-height: 4.5rem; }
    .detail dl { margin: 0; display: grid; grid-template-columns: auto 1fr; gap: 0 0.6rem; font-size: 0.85rem; font-variant-numeric: tabular-nums; }
    .detail dt { color: #556; }
    .detail dd { margin: 0; }
    .thumbs { display: flex; gap: 0.4rem; flex-wrap: wrap; align-items: flex-start; }
    .thumbs figure { display: flex; flex-direction: column; align-items: center; font-size: 0.75rem; color: #556; }
    .thumbs img { width: 56px; height: 56px; image-rendering: pixelated; border: 1px solid #dde1e8; }
    .thumbs pre { margin: 0; font-size: 0.8rem; background: #f7f8fa; border-radius: 4px; padding: 0.2rem 0.4rem; white-space: pre-wrap; word-break: break-all; max-width: 32rem; }
    .empty { color: #667; font-size: 0.9rem; }
    table { border-collapse: collapse; width: 100%; font-size: 0.85rem; font-variant-numeric: tabular-nums; margin-top: 0.5rem; }
    caption { text-align: left; font-size: 0.85rem; color: #445; padding-bottom: 0.2rem; }
    th, td { border-bottom: 1px solid #eef0f4; padding: 0.15rem 0.4rem; text-align: right; }
    th:first-child, td:first-child { text-align: left; }
    tr.front3 td { font-weight: 600; }
    tr.hot td { background: #fff4e6; }
    tr.picked td { background: #ffe8d6; }
    .legend { font-size: 0.8rem; color: #445; margin: 0 0 0.4rem; display: flex; gap: 0.35rem; align-items: center; flex-wrap: wrap; }
    .dot { display: inline-block; width: 0.6rem; height: 0.6rem; border-radius: 50%; border: 1.5px solid #8893a6; background: #fff; }
    .dot.front { background: #2456c9; border-color: #2456c9; }
    .dot.picked { border: 2.5px solid #d9480f; }
    .sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
  `];

  private get info(): ExplorerModel | undefined {
    return EXPLORER_MODELS[this.model];
  }

  /** the sampler in use (the attribute, or the model's first) */
  get effectiveSampler(): string {
    return this.sampler || this.info?.samplers[0] || '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('model') || changed.has('grid')) {
      const m = this.info;
      const text: Record<string, string> = {};
      if (changed.has('grid') && this.grid.trim()) {
        for (const part of this.grid.split(';')) {
          const [k, v] = part.split('=');
          if (k?.trim()) text[k.trim()] = (v ?? '').trim();
        }
      } else if (m) Object.assign(text, m.grid);
      this.gridText = text;
      this.invalid = new Map();
    }
    if (changed.has('model') || changed.has('classes')) this.classesText = (changed.has('classes') && this.classes) || this.info?.classes || '';
    if (changed.has('model') || changed.has('perClass')) this.perClassText = String(this.perClass ?? this.info?.perClass ?? 3);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** The grid the editor describes (knobs with values), or the first input error. */
  private parseGrid(): { grid: Record<string, number[]>; classes: string[]; perClass: number } | { errors: Map<string, string> } {
    const errors = new Map<string, string>();
    const grid: Record<string, number[]> = {};
    const m = this.info;
    if (!m) {
      errors.set('model', `unknown model "${this.model}" (the explorer knows ${Object.keys(EXPLORER_MODELS).join(', ')})`);
      return { errors };
    }
    for (const k of gridKnobs(m.kind, this.effectiveSampler)) {
      const r = parseValues(k, this.gridText[k.name] ?? '');
      if ('error' in r) errors.set(k.name, r.error);
      else if (r.values.length) grid[k.name] = r.values;
    }
    const classes = this.classesText.split(',').map((s) => s.trim()).filter(Boolean);
    if (!classes.length) errors.set('classes', 'name at least one class');
    const perClass = Number(this.perClassText);
    if (!Number.isInteger(perClass) || perClass < 2 || perClass > 64) errors.set('perClass', 'samples per class: an integer in [2, 64]');
    else if (classes.length * perClass <= 5) errors.set('perClass', `classes × per class must exceed 5 (PRDC's k), got ${classes.length * perClass}`);
    return errors.size ? { errors } : { grid, classes, perClass };
  }

  /** settings the editor's grid expands to (0 while it has errors) */
  private settingsCount(): number {
    const g = this.parseGrid();
    return 'errors' in g ? 0 : expandGrid(g.grid).length;
  }

  /**
   * Run the sweep the form describes in the engine worker; records stream into the plots. Resolves
   * with the records, or undefined if the form was rejected, the run stopped or failed (see `sweep-error`).
   */
  async run(): Promise<SweepRecord[] | undefined> {
    if (this.state === 'running' || this.state === 'loading') return undefined;
    const g = this.parseGrid();
    this.invalid = 'errors' in g ? g.errors : new Map();
    if ('errors' in g) {
      this.fail(new OpInputError('sweep', [...g.errors.values()].join('; ')));
      return undefined;
    }
    const m = this.info!;
    const sampler = this.effectiveSampler;
    const controller = (this.controller = new AbortController());
    this.error = undefined;
    this.note = '';
    this.records = [];
    this.loaded = false;
    this.hovered = this.selected = undefined;
    this.total = expandGrid(g.grid).length;
    this.state = 'loading';
    const t0 = performance.now();
    this.elapsedMs = 0;
    this.timer = setInterval(() => { this.elapsedMs = performance.now() - t0; }, 200);
    try {
      const { engine } = await engineFor(this.backend);
      const load = (name: string) => modelFor(this.backend, resolveModelUrl(name, this.modelsBase));
      const [gen, cls, ev] = await Promise.all([load(this.model), load(m.classifier), m.evaluator ? load(m.evaluator) : Promise.resolve(undefined)]);
      const names = conditionalClasses(gen);
      const classIds = g.classes.map((c) => classId(gen, names, c));
      const base: Record<string, KnobValue> = {};
      if (m.kind === 'image' && !g.grid.steps) base.steps = 10;
      if (sampler === 'ancestral' && !g.grid.steps && !g.grid.tokensPerStep) base.steps = 16;
      const spec: SweepSpec = {
        name: `${this.model} ${sampler} ${Object.keys(g.grid).join(' × ') || 'defaults'} (explorer)`,
        kind: m.kind, model: gen.id, sampler, base, grid: g.grid, classes: classIds, perClass: g.perClass, seed: this.seed,
        classifier: cls.id, ...(ev ? { evaluator: ev.id } : {}), keepSamples: this.keepSamples,
      };
      this.shown = { model: this.model, sampler, classIds, classNames: classIds.map((c) => gen.classes[c]), seed: this.seed, kind: m.kind };
      this.source = `run: ${spec.name}, classes ${this.shown.classNames!.join(', ')} × ${g.perClass}, seed ${this.seed}`;
      this.state = 'running';
      this.emit('sweep-start', { total: this.total });
      const records = await engine.sweep(spec, { signal: controller.signal }, (r) => {
        this.records = [...this.records, r];
        this.emit('sweep-record', { record: r, done: this.records.length, total: this.total });
      });
      this.records = records;
      this.state = 'done';
      this.emit('sweep-done', { records });
      return records;
    } catch (e) {
      if ((e as Error)?.name === 'AbortError') {
        this.state = 'stopped';
        this.emit('sweep-error', errorDetail(e));
      } else {
        try { rethrow(this.backend, e); } catch { /* a crashed worker's cached state is dropped */ }
        this.fail(e);
      }
      return undefined;
    } finally {
      clearInterval(this.timer);
      this.elapsedMs = performance.now() - t0;
      if (this.controller === controller) this.controller = undefined;
    }
  }

  /** Stop a running sweep (it settles as `stopped` after the model call in flight; finished settings stay). */
  stop(): void {
    this.controller?.abort();
  }

  private fail(e: unknown): void {
    this.error = errorDetail(e);
    this.state = 'error';
    this.emit('sweep-error', this.error);
  }

  /**
   * Show saved records: JSON lines (the CLI's sweep/merge output, or this element's export), or a
   * JSON array of records. One sweep only (one spec hash); a malformed line is an OpInputError.
   */
  loadText(text: string, sourceName = 'file'): SweepRecord[] {
    try {
      const t = text.trim();
      const records = t.startsWith('[') ? (JSON.parse(t) as SweepRecord[]) : parseJsonLines(text);
      if (!records.length) throw new OpInputError('sweep', `${sourceName} holds no sweep records`);
      const merged = mergeSweeps([records]);
      // the model: the records' name starts with it (the CLI's specs and this element's runs do)
      const name = merged[0].name ?? '';
      const model = Object.keys(EXPLORER_MODELS).find((k) => name.startsWith(k));
      if (model && model !== this.model) this.model = model;
      this.shown = { model: model ?? this.model, kind: (model ? EXPLORER_MODELS[model] : this.info)?.kind ?? 'image' };
      this.error = undefined;
      this.records = merged;
      this.total = merged.length;
      this.loaded = true;
      this.hovered = this.selected = undefined;
      this.source = `${sourceName}: ${name || 'unnamed sweep'} — ${merged.length} settings, spec ${merged[0].spec}`;
      this.note = model ? '' : `The records do not name a model the explorer knows: choosing a point sets its knobs for ${this.model}.`;
      this.state = 'done';
      this.emit('sweep-loaded', { records: merged });
      return merged;
    } catch (e) {
      this.fail(e);
      return [];
    }
  }

  private async onFile(ev: Event): Promise<void> {
    const input = ev.target as HTMLInputElement;
    const f = input.files?.[0];
    if (!f) return;
    this.loadText(await f.text(), f.name);
    input.value = '';
  }

  /** the records as JSON lines (one per setting, the CLI's format: `merge` reads it) */
  toJsonLines(): string {
    return this.records.map((r) => toJsonLine(r)).join('\n') + (this.records.length ? '\n' : '');
  }

  /** the three plots as one standalone SVG document */
  toSvg(): string {
    const panels = [...this.renderRoot.querySelectorAll<SVGSVGElement>('svg.plot')];
    const ser = new XMLSerializer();
    const gap = 16, top = 28;
    const width = panels.length * W + (panels.length - 1) * gap;
    const inner = panels.map((p, i) => {
      const c = p.cloneNode(true) as SVGSVGElement;
      for (const a of ['class', 'role', 'aria-labelledby', 'tabindex']) c.removeAttribute(a);
      c.querySelectorAll('[tabindex]').forEach((el) => el.removeAttribute('tabindex'));
      c.setAttribute('x', String(i * (W + gap)));
      c.setAttribute('y', String(top));
      c.setAttribute('width', String(W));
      c.setAttribute('height', String(H));
      return ser.serializeToString(c).replace(/<!--[\s\S]*?-->/g, '');
    }).join('\n');
    const title = (this.records[0]?.name ?? 'sweep').replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
    return `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + top}" viewBox="0 0 ${width} ${H + top}">\n`
      + `<rect width="100%" height="100%" fill="#ffffff"/>\n<text x="4" y="18" font-family="system-ui, sans-serif" font-size="14" fill="${INK}">${title} — Pareto fronts (filled: non-dominated for that pair)</text>\n${inner}\n</svg>\n`;
  }

  /** the plots as a PNG (the SVG drawn on a canvas at `scale`) */
  async toPng(scale = 2): Promise<Blob> {
    const text = this.toSvg();
    const img = new Image();
    img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`; // a data: image: the pages' img-src allows it, blob: not
    await img.decode();
    const c = document.createElement('canvas');
    c.width = Math.round(img.naturalWidth * scale);
    c.height = Math.round(img.naturalHeight * scale);
    const ctx = c.getContext('2d')!;
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0);
    return new Promise((resolve, reject) => c.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png'));
  }

  private fileStem(): string {
    return (this.records[0]?.name ?? 'sweep').replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '') || 'sweep';
  }

  private download(blob: Blob, name: string): void {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }

  private async exportAs(what: 'jsonl' | 'svg' | 'png'): Promise<void> {
    try {
      const stem = this.fileStem();
      if (what === 'jsonl') this.download(new Blob([this.toJsonLines()], { type: 'application/x-ndjson' }), `${stem}.jsonl`);
      else if (what === 'svg') this.download(new Blob([this.toSvg()], { type: 'image/svg+xml' }), `${stem}.svg`);
      else this.download(await this.toPng(), `${stem}.png`);
    } catch (e) {
      this.fail(e);
    }
  }

  /** The `<sample-scope>` attributes a record's knobs map to, and the knobs a scope cannot take. */
  scopeAttributes(r: SweepRecord): { attributes: Record<string, string>; skipped: string[] } {
    const attributes: Record<string, string> = {};
    const skipped: string[] = [];
    const s = this.shown;
    if (s) attributes.model = s.model;
    if (s?.sampler) attributes.sampler = s.sampler;
    if (s?.classNames?.length) attributes['class-label'] = s.classNames[0];
    if (s?.seed !== undefined) attributes.seed = String(s.seed);
    for (const [k, v] of Object.entries(r.knobs)) {
      const a = SCOPE_ATTRIBUTE[k];
      if (a) attributes[a] = String(v);
      else skipped.push(k);
    }
    return { attributes, skipped };
  }

  /** Choose a setting: set its knobs on the `scope` element and fire `point-select`. */
  choose(pos: number): void {
    const r = this.records[pos];
    if (!r) return;
    this.selected = pos;
    const { attributes, skipped } = this.scopeAttributes(r);
    const root = this.getRootNode() as Document | ShadowRoot;
    const el = this.scope ? root.getElementById?.(this.scope) ?? document.getElementById(this.scope) : null;
    if (el) for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
    this.note = el
      ? `Setting #${r.index} (${knobText(r.knobs)}) is set on the sampler below${skipped.length ? `; it cannot take ${skipped.join(', ')}` : ''}.`
      : this.scope ? `No element #${this.scope} to set the knobs on.` : '';
    this.emit('point-select', { index: r.index, knobs: r.knobs, attributes, skipped });
  }

  private onPointKey(ev: KeyboardEvent, pair: string, order: number[], at: number): void {
    let next = at;
    if (ev.key === 'ArrowRight' || ev.key === 'ArrowUp') next = Math.min(order.length - 1, at + 1);
    else if (ev.key === 'ArrowLeft' || ev.key === 'ArrowDown') next = Math.max(0, at - 1);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = order.length - 1;
    else if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      this.choose(order[at]);
      return;
    } else return;
    ev.preventDefault();
    this.focusPos = { ...this.focusPos, [pair]: next };
    this.hovered = order[next];
    void this.updateComplete.then(() => this.renderRoot.querySelector<SVGElement>(`svg[data-pair="${pair}"] .pt[data-pos="${order[next]}"]`)?.focus());
  }

  /** thumbnails of a record's kept images as PNG data URLs (drawn once per record) */
  private thumbnails(r: SweepRecord): string[] {
    const img = r.samples?.images;
    if (!img) return [];
    let urls = this.thumbs.get(r);
    if (!urls) {
      const bytes = fromBase64(img.data);
      const c = document.createElement('canvas');
      c.width = img.w;
      c.height = img.h;
      const ctx = c.getContext('2d')!;
      const data = ctx.createImageData(img.w, img.h);
      urls = [];
      for (let k = 0; k < img.n; k++) {
        for (let i = 0; i < img.w * img.h; i++) {
          const g = 255 - bytes[k * img.w * img.h + i]; // ink dark on white, as <sample-scope> draws
          data.data.set([g, g, g, 255], i * 4);
        }
        ctx.putImageData(data, 0, 0);
        urls.push(c.toDataURL('image/png'));
      }
      this.thumbs.set(r, urls);
    }
    return urls;
  }

  private axisLabel(a: Axis): string {
    const kind = this.shown?.kind ?? this.info?.kind;
    if (a === 'consistency') return 'consistency (classifier accuracy)';
    if (a === 'diversity') return 'diversity (Vendi, within class)';
    return kind === 'text' ? 'realism (−NLL per char)' : 'realism (PRDC density)';
  }

  private renderPlot([xa, ya]: [Axis, Axis], fronts: Record<string, number[]>) {
    const pair = `${xa}×${ya}`;
    const recs = this.records;
    const pts = recs.map((r, pos) => ({ pos, x: r.axes[xa], y: r.axes[ya] })).filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
    const front = new Set(fronts[pair] ?? []);
    const front3 = new Set(fronts[FRONT_3D] ?? []);
    const dom = (vs: number[]) => {
      let lo = Math.min(...vs), hi = Math.max(...vs);
      if (!vs.length) { lo = 0; hi = 1; }
      const pad = (hi - lo) * 0.08 || Math.max(Math.abs(hi) * 0.1, 0.05);
      return [lo - pad, hi + pad];
    };
    const [x0, x1] = dom(pts.map((p) => p.x)), [y0, y1] = dom(pts.map((p) => p.y));
    const sx = (v: number) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
    const sy = (v: number) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
    const order = [...pts].sort((a, b) => a.x - b.x || b.y - a.y).map((p) => p.pos);
    const line = order.filter((p) => front.has(p)).map((p) => `${sx(recs[p].axes[xa]).toFixed(1)},${sy(recs[p].axes[ya]).toFixed(1)}`).join(' ');
    const active = Math.min(this.focusPos[pair] ?? 0, Math.max(0, order.length - 1));
    const id = `plot-${xa}-${ya}`;
    const hot = this.hovered, picked = this.selected;
    const points = order.map((pos, at) => {
      const r = recs[pos];
      const onFront = front.has(pos);
      const label = `setting ${r.index}: ${knobText(r.knobs)}; ${xa} ${fmt(r.axes[xa])}, ${ya} ${fmt(r.axes[ya])}${onFront ? '; on this front' : ''}${front3.has(pos) ? '; on the 3-D front' : ''}`;
      const stroke = pos === picked ? PICK : pos === hot ? INK : onFront ? ACCENT : '#8893a6';
      return svg`<circle class="pt" data-pos=${pos} data-index=${r.index} data-front=${onFront ? '1' : '0'}
        cx=${sx(r.axes[xa]).toFixed(1)} cy=${sy(r.axes[ya]).toFixed(1)} r=${pos === hot || pos === picked ? 7 : 5}
        fill=${onFront ? ACCENT : '#ffffff'} stroke=${stroke} stroke-width=${pos === hot || pos === picked ? 2.5 : 1.5}
        tabindex=${at === active ? 0 : -1} role="button" aria-label=${label}
        @mouseenter=${() => { this.hovered = pos; }} @focus=${() => { this.hovered = pos; this.focusPos = { ...this.focusPos, [pair]: at }; }}
        @click=${() => this.choose(pos)} @keydown=${(e: KeyboardEvent) => this.onPointKey(e, pair, order, at)}><title>${label}</title></circle>`;
    });
    const xt = niceTicks(x0, x1), yt = niceTicks(y0, y1);
    const xf = tickFmt(xt), yf = tickFmt(yt);
    return html`<figure>
      <svg class="plot" data-pair=${pair} viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="group" aria-labelledby=${id} xmlns="http://www.w3.org/2000/svg">
        ${svg`<title id=${id}>${ya} against ${xa}: ${pts.length} settings, ${front.size} on the front</title>
        <rect x=${M.l} y=${M.t} width=${W - M.l - M.r} height=${H - M.t - M.b} fill="#ffffff" stroke="#c6ccd6"/>
        ${xt.map((t) => svg`<line x1=${sx(t)} x2=${sx(t)} y1=${M.t} y2=${H - M.b} stroke=${GRID}/><text x=${sx(t)} y=${H - M.b + 14} text-anchor="middle" font-size="10" font-family="system-ui, sans-serif" fill="#556">${xf(t)}</text>`)}
        ${yt.map((t) => svg`<line x1=${M.l} x2=${W - M.r} y1=${sy(t)} y2=${sy(t)} stroke=${GRID}/><text x=${M.l - 5} y=${sy(t) + 3} text-anchor="end" font-size="10" font-family="system-ui, sans-serif" fill="#556">${yf(t)}</text>`)}
        <text x=${(M.l + W - M.r) / 2} y=${H - 8} text-anchor="middle" font-size="11" font-family="system-ui, sans-serif" fill=${INK}>${this.axisLabel(xa)} →</text>
        <text transform="translate(13 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle" font-size="11" font-family="system-ui, sans-serif" fill=${INK}>${this.axisLabel(ya)} →</text>
        ${line ? svg`<polyline class="front" points=${line} fill="none" stroke=${ACCENT} stroke-width="1.5" stroke-dasharray="4 3"/>` : nothing}
        ${points}`}
      </svg>
      <figcaption>${ya} vs ${xa} — ${front.size} of ${pts.length} non-dominated</figcaption>
    </figure>`;
  }

  private renderDetail(fronts: Record<string, number[]>) {
    const pos = this.hovered ?? this.selected;
    const r = pos === undefined ? undefined : this.records[pos];
    if (!r) return html`<div class="detail" role="status" aria-live="polite"><p class="empty">Hover or focus a point to see its knobs and samples; click it (or press Enter) to load that setting into the sampler.</p></div>`;
    const on = PAIRS.filter(([a, b]) => fronts[`${a}×${b}`]?.includes(pos!)).map(([a, b]) => `${a}×${b}`);
    if (fronts[FRONT_3D]?.includes(pos!)) on.push('3-D');
    const thumbs = this.thumbnails(r);
    const cls = (j: number) => {
      const c = r.samples?.classes[j];
      if (c === undefined) return '';
      const at = this.shown?.classIds?.indexOf(c) ?? -1;
      return at >= 0 ? this.shown!.classNames![at] : String(c);
    };
    return html`<div class="detail" role="status" aria-live="polite">
      <dl>
        <dt>setting</dt><dd>#${r.index}${pos === this.selected ? ' (chosen)' : ''}</dd>
        ${Object.entries(r.knobs).map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}
        ${AXES.map((a) => html`<dt>${a}</dt><dd>${fmt(r.axes[a])}</dd>`)}
        <dt>NFE</dt><dd>${fmt(r.nfe)} · ${(r.ms / 1000).toFixed(1)} s · ${r.backend}</dd>
        <dt>front</dt><dd>${on.length ? on.join(', ') : 'dominated everywhere'}</dd>
      </dl>
      <div class="thumbs" aria-label="samples of this setting">
        ${thumbs.length ? thumbs.map((u, j) => html`<figure><img src=${u} alt=${`sample ${j + 1}${cls(j) ? `, class ${cls(j)}` : ''}`} width="56" height="56"><figcaption>${cls(j)}</figcaption></figure>`)
          : r.samples?.texts?.length ? r.samples.texts.map((t, j) => html`<figure><pre>${t}…</pre><figcaption>${cls(j)}</figcaption></figure>`)
          : html`<p class="empty">No samples kept for this setting (run with keep-samples &gt; 0 to see some).</p>`}
      </div>
    </div>`;
  }

  private renderTable(fronts: Record<string, number[]>) {
    const recs = this.records;
    if (!recs.length) return nothing;
    const knobs = [...new Set(recs.flatMap((r) => Object.keys(r.knobs)))];
    const f3 = new Set(fronts[FRONT_3D] ?? []);
    return html`<table>
      <caption>Every setting (bold: on the 3-D front — no other setting is at least as good on all three axes and better on one)</caption>
      <thead><tr><th scope="col">#</th>${knobs.map((k) => html`<th scope="col">${k}</th>`)}${AXES.map((a) => html`<th scope="col">${a}</th>`)}<th scope="col">NFE</th><th scope="col">3-D front</th><th scope="col"><span class="sr">load</span></th></tr></thead>
      <tbody>${recs.map((r, pos) => html`<tr class=${[f3.has(pos) ? 'front3' : '', pos === this.hovered ? 'hot' : '', pos === this.selected ? 'picked' : ''].join(' ').trim()} data-index=${r.index} data-front3=${f3.has(pos) ? '1' : '0'}
          @mouseenter=${() => { this.hovered = pos; }}>
        <td>${r.index}</td>${knobs.map((k) => html`<td>${r.knobs[k] === undefined ? '' : String(r.knobs[k])}</td>`)}${AXES.map((a) => html`<td>${fmt(r.axes[a])}</td>`)}
        <td>${fmt(r.nfe)}</td><td>${f3.has(pos) ? '✓' : '—'}</td>
        <td><button class="small" @click=${() => this.choose(pos)} aria-label=${`load setting ${r.index} (${knobText(r.knobs)}) into the sampler`}>load</button></td>
      </tr>`)}</tbody>
    </table>`;
  }

  private onGridInput(k: GridKnob, ev: Event): void {
    const text = (ev.target as HTMLInputElement).value;
    this.gridText = { ...this.gridText, [k.name]: text };
    const r = parseValues(k, text);
    const invalid = new Map(this.invalid);
    if ('error' in r) invalid.set(k.name, r.error); else invalid.delete(k.name);
    this.invalid = invalid;
  }

  private renderForm() {
    const m = this.info;
    const busy = this.state === 'running' || this.state === 'loading';
    const knobs = m ? gridKnobs(m.kind, this.effectiveSampler) : [];
    const n = this.settingsCount();
    const classMsg = this.invalid.get('classes'), perMsg = this.invalid.get('perClass');
    return html`<fieldset ?disabled=${busy}>
      <legend>Sweep</legend>
      <div class="form">
        <label for="model">model
          <select id="model" .value=${live(this.model)} @change=${(e: Event) => { this.model = (e.target as HTMLSelectElement).value; this.sampler = ''; }}>
            ${Object.keys(EXPLORER_MODELS).map((k) => html`<option value=${k} ?selected=${k === this.model}>${k}</option>`)}
          </select></label>
        <label for="sampler">sampler
          <select id="sampler" .value=${live(this.effectiveSampler)} @change=${(e: Event) => { this.sampler = (e.target as HTMLSelectElement).value; }}>
            ${(m?.samplers ?? []).map((s) => html`<option value=${s} ?selected=${s === this.effectiveSampler}>${s}</option>`)}
          </select></label>
        ${knobs.map((k) => {
          const msg = this.invalid.get(k.name);
          return html`<label for=${`g-${k.name}`} title=${k.help}>${k.label} values
            <input id=${`g-${k.name}`} name=${k.name} type="text" inputmode="decimal" placeholder="default" autocomplete="off"
              aria-invalid=${msg ? 'true' : 'false'} aria-describedby="grid-hint" .value=${live(this.gridText[k.name] ?? '')} @input=${(e: Event) => this.onGridInput(k, e)}>
            ${msg ? html`<span class="msg" role="alert">${msg}</span>` : nothing}</label>`;
        })}
        <label for="classes">classes
          <input id="classes" type="text" autocomplete="off" aria-invalid=${classMsg ? 'true' : 'false'} .value=${live(this.classesText)} @input=${(e: Event) => { this.classesText = (e.target as HTMLInputElement).value; }}>
          ${classMsg ? html`<span class="msg" role="alert">${classMsg}</span>` : nothing}</label>
        <label for="per-class">samples per class
          <input id="per-class" type="number" min="2" max="64" step="1" aria-invalid=${perMsg ? 'true' : 'false'} .value=${live(this.perClassText)} @input=${(e: Event) => { this.perClassText = (e.target as HTMLInputElement).value; }}>
          ${perMsg ? html`<span class="msg" role="alert">${perMsg}</span>` : nothing}</label>
        <label for="seed">seed
          <input id="seed" type="number" min="0" step="1" .value=${live(String(this.seed))} @input=${(e: Event) => { this.seed = Number((e.target as HTMLInputElement).value); }}>
        </label>
      </div>
      <p class="hint" id="grid-hint">Comma-separated values per knob (one value = fixed, empty = the sampler's default): ${n ? `${n} setting${n === 1 ? '' : 's'}` : 'fix the marked inputs'}. Evaluated by ${m ? [m.classifier, m.evaluator].filter(Boolean).join(' and ') : '—'}, loaded automatically.</p>
    </fieldset>`;
  }

  private renderBar() {
    const busy = this.state === 'running' || this.state === 'loading';
    const done = this.records.length;
    const pct = this.total ? Math.round((100 * done) / this.total) : 0;
    const status = this.state === 'loading' ? 'loading models…'
      : this.state === 'running' ? `${done} / ${this.total} settings${done === 0 ? ' (the first also maps the classifier’s reference set)' : ''}`
        : this.state === 'stopped' ? `stopped after ${done} / ${this.total} settings`
          : this.state === 'done' ? (this.loaded ? `${done} settings loaded` : `${done} / ${this.total} settings`) : 'no sweep yet';
    return html`<div class="bar">
      <button class="primary" part="run" ?disabled=${busy} @click=${() => void this.run()}>Run sweep</button>
      <button part="stop" ?disabled=${!busy} @click=${() => this.stop()}>Stop</button>
      <progress max="100" .value=${pct} aria-label="sweep progress">${pct}%</progress>
      <span class="stats" role="status">${status}${this.loaded ? '' : ` · ${(this.elapsedMs / 1000).toFixed(1)} s`}</span>
    </div>
    <div class="bar">
      <label class="file" for="file">load results (.jsonl) <input id="file" type="file" accept=".jsonl,.json,application/json,application/x-ndjson" ?disabled=${busy} @change=${(e: Event) => void this.onFile(e)}></label>
      <span class="stats">export:</span>
      <button part="export-jsonl" ?disabled=${!done || busy} @click=${() => void this.exportAs('jsonl')}>JSON lines</button>
      <button part="export-svg" ?disabled=${!done} @click=${() => void this.exportAs('svg')}>SVG</button>
      <button part="export-png" ?disabled=${!done} @click=${() => void this.exportAs('png')}>PNG</button>
    </div>`;
  }

  protected override render() {
    const fronts = sweepFronts(this.records);
    return html`
      ${this.heading ? html`<h3 part="heading">${this.heading}</h3>` : nothing}
      ${this.renderForm()}
      ${this.renderBar()}
      ${this.error ? html`<p class="error" role="alert"><strong>${this.error.name}</strong>: ${this.error.message}</p>` : nothing}
      ${this.source ? html`<p class="hint" part="source">${this.source}</p>` : nothing}
      ${this.records.length ? html`<div class="plots" part="plots">${PAIRS.map((p) => this.renderPlot(p, fronts))}</div>
        <p class="legend" aria-hidden="true"><span class="dot front"></span> non-dominated for that pair (joined by the dashed front) <span class="dot"></span> dominated <span class="dot picked"></span> chosen — every axis: higher is better</p>
        ${this.renderDetail(fronts)}` : nothing}
      ${this.note ? html`<p class="hint" role="status">${this.note}</p>` : nothing}
      ${this.renderTable(fronts)}
    `;
  }
}

/** A class by name, or by index among the conditional classes. */
function classId(info: ModelInfo, names: string[], c: string): number {
  const byName = names.indexOf(c);
  if (byName >= 0) return info.classes.indexOf(c);
  if (/^\d+$/.test(c) && Number(c) < names.length) return info.classes.indexOf(names[Number(c)]);
  throw new OpInputError('sweep', `class "${c}" is not one of ${info.name}'s: ${names.join(', ')}`);
}

declare global {
  interface HTMLElementTagNameMap {
    'pareto-explorer': ParetoExplorer;
  }
}
