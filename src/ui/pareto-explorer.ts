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
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { OpInputError } from '../errors.js';
import { defaultOf } from '../knobs/registry.js';
import { expandGrid, type KnobValue, type SweepSpec } from '../sweep/spec.js';
import { sweepFronts, type SweepRecord } from '../sweep/records.js';
import type { BackendPreference } from '../worker/protocol.js';
import { engineFor, errorDetail, modelFor, resolveModelUrl, forget, servedModels } from './engine-host.js';
import { conditionalClasses } from './knobs.js';
import {
  classId,
  explorerModels,
  parseGrid,
  parseValues,
  renderForm,
  SCOPE_ATTRIBUTE,
  type ExplorerModel,
  type FormView,
  type GridKnob,
} from './pareto-form.js';
import { download, fileStem, plotsSvg, readRecords, svgToPng, toJsonLines } from './pareto-io.js';
import { knobText, PAIRS, renderDetail, renderPlot, type FrontView } from './pareto-plots.js';
import { renderTable } from './pareto-table.js';
import { boxes, panel } from './styles.js';

export type ExplorerState = 'idle' | 'loading' | 'running' | 'done' | 'stopped' | 'error';

@customElement('pareto-explorer')
export class ParetoExplorer extends LitElement {
  /**
   * Generator: a name under `models-base` ("digits-diffusion", "text-mdm"): one of the class-conditional
   * image diffusion or masked diffusion text models served there that have a classifier (and, for text,
   * an AS-ARM evaluator) beside them — the engine reads their manifests (`describeModels`).
   */
  @property() model = 'digits-diffusion';
  /** Where model names are looked up (default "/models/", relative to the page). */
  @property({ attribute: 'models-base' }) modelsBase = '/models/';
  /** The models to choose from and evaluate with, space-separated names; empty = those models-base/index.json lists. */
  @property() models = '';
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

  /** the generators the engine's models allow (undefined until listed) */
  @state() private catalog?: Record<string, ExplorerModel>;
  private catalogLoad?: Promise<Record<string, ExplorerModel>>;
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
  private shown?: {
    model: string;
    sampler?: string;
    classIds?: number[];
    classNames?: string[];
    seed?: number;
    kind: 'image' | 'text';
  };
  private controller?: AbortController;
  private timer?: ReturnType<typeof setInterval>;

  static override styles = [
    boxes,
    panel,
    css`
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
  `,
  ];

  private get info(): ExplorerModel | undefined {
    return this.catalog?.[this.model];
  }

  /** The generators to choose from: the engine describes the listed models (manifests only). */
  private listModels(): Promise<Record<string, ExplorerModel>> {
    return (this.catalogLoad ??= (async () => {
      const names = this.models.trim() ? this.models.trim().split(/\s+/) : await servedModels(this.modelsBase);
      const { engine } = await engineFor(this.backend);
      const urls = names.map((n) => resolveModelUrl(n, this.modelsBase));
      const read = await engine.describeModels(urls);
      const catalog = explorerModels(read.map((m) => ({ ...m, listed: names[urls.indexOf(m.source)] })));
      this.catalog = catalog;
      return catalog;
    })().catch((e: unknown) => {
      this.catalogLoad = undefined;
      throw e;
    }));
  }

  /** the sampler in use (the attribute, or the model's first) */
  get effectiveSampler(): string {
    return this.sampler || this.info?.samplers[0] || '';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('models') || changed.has('modelsBase')) {
      this.catalogLoad = undefined;
      void this.listModels().catch((e: unknown) => this.fail(e));
    }
    // the list arrives after the first render: the model's defaults fill what no attribute set
    const listed = (changed as Map<PropertyKey, unknown>).has('catalog') && this.catalog !== undefined;
    if (changed.has('model') || changed.has('grid') || (listed && !this.grid.trim())) {
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
    if (changed.has('model') || changed.has('classes') || (listed && !this.classes))
      this.classesText = (changed.has('classes') && this.classes) || this.info?.classes || '';
    if (changed.has('model') || changed.has('perClass') || (listed && this.perClass === undefined))
      this.perClassText = String(this.perClass ?? this.info?.perClass ?? 3);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /**
   * Run the sweep the form describes in the engine worker; records stream into the plots. Resolves
   * with the records, or undefined if the form was rejected, the run stopped or failed (see `sweep-error`).
   */
  async run(): Promise<SweepRecord[] | undefined> {
    if (this.state === 'running' || this.state === 'loading') return undefined;
    try {
      await this.listModels();
    } catch (e) {
      this.fail(e);
      return undefined;
    }
    const g = parseGrid(this.formView());
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
    this.timer = setInterval(() => {
      this.elapsedMs = performance.now() - t0;
    }, 200);
    try {
      const { engine } = await engineFor(this.backend);
      const load = (name: string) => modelFor(this.backend, resolveModelUrl(name, this.modelsBase));
      const [gen, cls, ev] = await Promise.all([
        load(this.model),
        load(m.classifier),
        m.evaluator ? load(m.evaluator) : Promise.resolve(undefined),
      ]);
      const names = conditionalClasses(gen);
      const classIds = g.classes.map((c) => classId(gen, names, c));
      const base: Record<string, KnobValue> = {};
      if (m.kind === 'image' && !g.grid.steps) base.steps = 10;
      if (sampler === 'ancestral' && !g.grid.steps && !g.grid.tokensPerStep) base.steps = 16;
      const spec: SweepSpec = {
        name: `${this.model} ${sampler} ${Object.keys(g.grid).join(' × ') || 'defaults'} (explorer)`,
        kind: m.kind,
        model: gen.id,
        sampler,
        base,
        grid: g.grid,
        classes: classIds,
        perClass: g.perClass,
        seed: this.seed,
        classifier: cls.id,
        ...(ev ? { evaluator: ev.id } : {}),
        keepSamples: this.keepSamples,
      };
      this.shown = {
        model: this.model,
        sampler,
        classIds,
        classNames: classIds.map((c) => gen.classes[c]),
        seed: this.seed,
        kind: m.kind,
      };
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
        forget(this.backend, e); // a crashed worker's cached state is dropped
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
      const merged = readRecords(text, sourceName);
      // the model: the records' name starts with it (the CLI's specs and this element's runs do)
      const name = merged[0].name ?? '';
      // the longest known name (text-mdm-onnx, not text-mdm); before the list arrives, the model chosen
      const known = this.catalog ? Object.keys(this.catalog) : [this.model];
      const model = known.filter((k) => name.startsWith(k)).sort((a, b) => b.length - a.length)[0];
      if (model && model !== this.model) this.model = model;
      this.shown = { model: model ?? this.model, kind: (model ? this.catalog?.[model] : this.info)?.kind ?? 'image' };
      this.error = undefined;
      this.records = merged;
      this.total = merged.length;
      this.loaded = true;
      this.hovered = this.selected = undefined;
      this.source = `${sourceName}: ${name || 'unnamed sweep'} — ${merged.length} settings, spec ${merged[0].spec}`;
      this.note = model
        ? ''
        : `The records do not name a model the explorer knows: choosing a point sets its knobs for ${this.model}.`;
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
    return toJsonLines(this.records);
  }

  /** the three plots as one standalone SVG document */
  toSvg(): string {
    return plotsSvg([...this.renderRoot.querySelectorAll<SVGSVGElement>('svg.plot')], this.records[0]?.name ?? 'sweep');
  }

  /** the plots as a PNG (the SVG drawn on a canvas at `scale`) */
  toPng(scale = 2): Promise<Blob> {
    return svgToPng(this.toSvg(), scale);
  }

  private async exportAs(what: 'jsonl' | 'svg' | 'png'): Promise<void> {
    try {
      const stem = fileStem(this.records);
      if (what === 'jsonl') download(new Blob([this.toJsonLines()], { type: 'application/x-ndjson' }), `${stem}.jsonl`);
      else if (what === 'svg') download(new Blob([this.toSvg()], { type: 'image/svg+xml' }), `${stem}.svg`);
      else download(await this.toPng(), `${stem}.png`);
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
    const el = this.scope ? (root.getElementById?.(this.scope) ?? document.getElementById(this.scope)) : null;
    if (el) for (const [k, v] of Object.entries(attributes)) el.setAttribute(k, v);
    this.note = el
      ? `Setting #${r.index} (${knobText(r.knobs)}) is set on the sampler below${skipped.length ? `; it cannot take ${skipped.join(', ')}` : ''}.`
      : this.scope
        ? `No element #${this.scope} to set the knobs on.`
        : '';
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
    void this.updateComplete.then(() =>
      this.renderRoot.querySelector<SVGElement>(`svg[data-pair="${pair}"] .pt[data-pos="${order[next]}"]`)?.focus(),
    );
  }

  private onGridInput(k: GridKnob, text: string): void {
    this.gridText = { ...this.gridText, [k.name]: text };
    const r = parseValues(k, text);
    const invalid = new Map(this.invalid);
    if ('error' in r) invalid.set(k.name, r.error);
    else invalid.delete(k.name);
    this.invalid = invalid;
  }

  private formView(): FormView {
    return {
      models: this.catalog,
      model: this.model,
      sampler: this.effectiveSampler,
      gridText: this.gridText,
      classesText: this.classesText,
      perClassText: this.perClassText,
      seed: this.seed,
      invalid: this.invalid,
      busy: this.state === 'running' || this.state === 'loading',
      setModel: (model) => {
        this.model = model;
        this.sampler = '';
      },
      setSampler: (sampler) => {
        this.sampler = sampler;
      },
      gridInput: (k, text) => this.onGridInput(k, text),
      setClasses: (text) => {
        this.classesText = text;
      },
      setPerClass: (text) => {
        this.perClassText = text;
      },
      setSeed: (seed) => {
        this.seed = seed;
      },
    };
  }

  private frontView(): FrontView {
    return {
      records: this.records,
      kind: this.shown?.kind ?? this.info?.kind,
      hovered: this.hovered,
      selected: this.selected,
      focusPos: this.focusPos,
      classIds: this.shown?.classIds,
      classNames: this.shown?.classNames,
      hover: (pos) => {
        this.hovered = pos;
      },
      focus: (pair, at, pos) => {
        this.hovered = pos;
        this.focusPos = { ...this.focusPos, [pair]: at };
      },
      choose: (pos) => this.choose(pos),
      key: (ev, pair, order, at) => this.onPointKey(ev, pair, order, at),
    };
  }

  private renderBar() {
    const busy = this.state === 'running' || this.state === 'loading';
    const done = this.records.length;
    const pct = this.total ? Math.round((100 * done) / this.total) : 0;
    const status =
      this.state === 'loading'
        ? 'loading models…'
        : this.state === 'running'
          ? `${done} / ${this.total} settings${done === 0 ? ' (the first also maps the classifier’s reference set)' : ''}`
          : this.state === 'stopped'
            ? `stopped after ${done} / ${this.total} settings`
            : this.state === 'done'
              ? this.loaded
                ? `${done} settings loaded`
                : `${done} / ${this.total} settings`
              : 'no sweep yet';
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
    const view = this.frontView();
    return html`
      ${this.heading ? html`<h3 part="heading">${this.heading}</h3>` : nothing}
      ${renderForm(this.formView())}
      ${this.renderBar()}
      ${this.error ? html`<p class="error" role="alert"><strong>${this.error.name}</strong>: ${this.error.message}</p>` : nothing}
      ${this.source ? html`<p class="hint" part="source">${this.source}</p>` : nothing}
      ${
        this.records.length
          ? html`<div class="plots" part="plots">${PAIRS.map((p) => renderPlot(view, p, fronts))}</div>
        <p class="legend" aria-hidden="true"><span class="dot front"></span> non-dominated for that pair (joined by the dashed front) <span class="dot"></span> dominated <span class="dot picked"></span> chosen — every axis: higher is better</p>
        ${renderDetail(view, fronts)}`
          : nothing
      }
      ${this.note ? html`<p class="hint" role="status">${this.note}</p>` : nothing}
      ${renderTable(view, fronts)}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'pareto-explorer': ParetoExplorer;
  }
}
