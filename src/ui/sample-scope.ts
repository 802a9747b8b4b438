/**
 * `<sample-scope>`: sample a model live in the page. Text models show every row as it unmasks
 * (undecided positions shaded; with ASSD, accepted and rejected drafts marked), image models a
 * canvas grid of x̂0 previews; a progress bar (step, NFE, elapsed), a Stop button (cancels the
 * request in the worker) and a result footer (NFE, time, backend). The engine runs in a shared
 * module worker (./engine-host.ts); without WebGPU it runs on the CPU backend and says why.
 *
 * ```html
 * <script type="module" src="sample-scope.js"></script>
 * <sample-scope model="text-mdm" sampler="fhs" length="64" n="2" class-label="moby" autostart></sample-scope>
 * ```
 * The model's class is the `class-label` attribute (`class` is HTML's own, for CSS classes).
 *
 * Events (bubbling, composed): `sample-start` {request}, `sample-progress` {step, nfe, fraction,
 * elapsedMs}, `sample-done` {nfe, ms, backend, texts?, images?}, `sample-error` {name, code, message}
 * (a Stop is a `sample-error` named AbortError).
 */
import { LitElement, css, html, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import {
  DRAFT_MARK,
  encodePrompt,
  tokenizerFromSpec,
  type TextTokenizer,
  type BackendInfo,
  type BackendPreference,
  type EngineProgress,
  type ImageSampleRequest,
  type ImageSampleResult,
  type ModelInfo,
  type TextSampleRequest,
  type TextSampleResult,
} from '../worker/protocol.js';
import { allowedOriginsAttribute, engineFor, errorDetail, modelFor, resolveModelUrl, forget } from './engine-host.js';
import { boxes, panel } from './styles.js';
import { defaultOf, KNOBS, knobDefault } from '../knobs/registry.js';
import {
  checkKnob,
  conditionalClasses,
  knobProperty,
  knobsFor,
  modelKind,
  parseKnob,
  samplersOf,
  type KnobName,
  type KnobSpec,
  type ModelKind,
} from './knobs.js';

export type ScopeState = 'loading' | 'ready' | 'running' | 'done' | 'stopped' | 'error';

export interface SampleDoneDetail {
  nfe: number;
  /** wall time seen by the page, ms */
  ms: number;
  backend: string;
  texts?: string[];
  /** (n, H, W, C) in [0, 1] */
  images?: Float32Array;
  /** ASSD and speculative decoding: drafts proposed / accepted */
  proposed?: number;
  accepted?: number;
  /** speculative decoding: the draft model's passes (`nfe` counts the target's) */
  draftNfe?: number;
  /** tokens generated per second of page wall time (text) */
  tokensPerS?: number;
}

const DRAFT_CLASS: Record<number, string> = {
  [DRAFT_MARK.EXACT]: 'd-exact',
  [DRAFT_MARK.ACCEPTED]: 'd-acc',
  [DRAFT_MARK.REJECTED]: 'd-rej',
  [DRAFT_MARK.BONUS]: 'd-bonus',
  [DRAFT_MARK.DISCARDED]: 'd-disc',
};

/** properties whose change re-checks the knobs: every knob with an input (src/knobs/registry.ts), and the model info */
const KNOB_PROPS = new Set<string>([...KNOBS.filter((k) => k.input).map((k) => k.name), 'info']);

@customElement('sample-scope')
export class SampleScope extends LitElement {
  /**
   * Model: a name under `models-base` ("text-mdm", "digits-diffusion") or the URL of a model folder / its
   * manifest.json.
   */
  @property() model = 'text-mdm';
  /** Where model names are looked up (default "/models/", relative to the page). */
  @property({ attribute: 'models-base' }) modelsBase = '/models/';
  /** Origins models may be loaded from besides the page's own (see `allowedOriginsAttribute`). */
  @property(allowedOriginsAttribute)
  allowedOrigins: string[] = [];
  /** Sampler: fhs | ancestral (MDM), assd | sequential (AS-ARM), ddim | ddpm (images); empty = the model's first. */
  @property(knobProperty('sampler')) sampler = '';
  /** Samples drawn in parallel. */
  @property(knobProperty('n')) n = defaultOf<number>('n');
  /** Text: characters per sample; empty = the model's maximum. */
  @property(knobProperty('length')) length?: number;
  /** Seed: the same seed and knobs give the same samples on the same backend. */
  @property(knobProperty('seed')) seed = defaultOf<number>('seed');
  /** The model's class by name or index ("moby", "3"); empty = unconditional. */
  @property(knobProperty('classLabel')) classLabel = '';
  /**
   * Classifier-free guidance scale s, text and images alike: 1 = the conditional model (the default when empty), 0 =
   * unconditional, > 1 sharper.
   */
  @property(knobProperty('guidance')) guidance?: number;
  /** Text: softmax temperature (0 = greedy). */
  @property(knobProperty('temperature')) temperature = defaultOf<number>('temperature');
  /** Text: nucleus mass in (0, 1]. */
  @property(knobProperty('topP')) topP = defaultOf<number>('topP');
  /** Text: keep the k most likely tokens (0 = off). */
  @property(knobProperty('topK')) topK = defaultOf<number>('topK');
  /**
   * MDM ancestral: time-grid steps; images: denoising steps. Empty = the registry's default for the sampler
   * (src/knobs/registry.ts).
   */
  @property(knobProperty('steps')) steps?: number;
  /** MDM ancestral: reveal exactly k tokens per pass (instead of the time grid). */
  @property(knobProperty('tokensPerStep')) tokensPerStep?: number;
  /** AS-ARM ASSD: draft length k ≥ 2 (the sampler's `draft`; attribute `draft-k`). */
  @property(knobProperty('draft')) draft = defaultOf<number>('draft');
  /** @deprecated the knob is `draft` (attribute `draft-k`) everywhere else; this old property name still works */
  get draftK(): number {
    return this.draft;
  }
  set draftK(v: number) {
    this.draft = v;
  }
  /** Text: 'precise' or 'naive-f32' categorical draws. */
  @property(knobProperty('precision')) precision = defaultOf<string>('precision');
  /** Images, DDIM: η ∈ [0, 1]. */
  @property(knobProperty('eta')) eta = defaultOf<number>('eta');
  /**
   * Speculative decoding: the draft model (name or URL, same vocabulary), or "self:N" (the target's first N
   * blocks); empty = the engine's default (a loaded draft made for the model, else self).
   */
  @property({ attribute: 'draft-model' }) draftModel = '';
  /** Images: a few-step student model (name or URL) for the base → student hybrid; empty = off. */
  @property() student = '';
  /** Hybrid: base-model steps before the switch. */
  @property(knobProperty('baseSteps')) baseSteps = defaultOf<number>('baseSteps');
  /** Hybrid: student consistency steps after the switch. */
  @property(knobProperty('studentSteps')) studentSteps = defaultOf<number>('studentSteps');
  /** Images: λ, the weight of `lambda-model` mixed into the model's weights (0 = the model itself). */
  @property(knobProperty('lambda')) lambda = defaultOf<number>('lambda');
  /** Images: λ's partner (name or URL), e.g. digits-guided; empty = the engine's default (a loaded student). */
  @property({ attribute: 'lambda-model' }) lambdaModel = '';
  /** Backend: 'auto' (WebGPU, else the CPU twins), 'webgpu' or 'cpu'. */
  @property() backend: BackendPreference = 'auto';
  /** Start sampling as soon as the model is loaded. */
  @property({ type: Boolean }) autostart = false;
  /** Hide the knob inputs (attributes still apply). */
  @property({ type: Boolean, attribute: 'no-knobs' }) noKnobs = false;
  /**
   * Text: a prompt / infill text, encoded with the model's tokenizer (character or HF tokenizer.json):
   * it fixes the first positions; the mask token's text in it ("[MASK]") and every position after it
   * are generated.
   */
  @property() prompt = '';
  /** A title shown above the output (default: the model's name and sampler). */
  @property() heading = '';
  /** (read-only) loading | ready | running | done | stopped | error */
  @property({ reflect: true }) state: ScopeState = 'loading';

  @state() private info?: ModelInfo;
  /** the loaded text model's tokenizer (rebuilt from info.tokenizer) */
  private tok?: TextTokenizer;
  @state() private backendInfo?: BackendInfo;
  @state() private error?: { name: string; message: string };
  @state() private stoppedAt?: number;
  @state() private tokens?: Uint32Array;
  @state() private fresh?: Uint8Array;
  @state() private drafts?: Uint8Array;
  @state() private step = 0;
  @state() private totalSteps?: number;
  @state() private nfe = 0;
  @state() private fraction = 0;
  @state() private elapsedMs = 0;
  @state() private done?: SampleDoneDetail;
  @state() private invalid = new Map<KnobName, string>();
  private controller?: AbortController;
  private timer?: ReturnType<typeof setInterval>;
  private loadSeq = 0;
  private started = 0;
  private canvas?: HTMLCanvasElement;
  private lastImages?: Float32Array;

  static override styles = [
    boxes,
    panel,
    css`
    .meta { color: #556; font-size: 0.85rem; }
    .knobs { display: grid; grid-template-columns: repeat(auto-fill, minmax(9.5rem, 1fr)); gap: 0.4rem 0.8rem; margin: 0.5rem 0; }
    .knobs label { display: flex; flex-direction: column; font-size: 0.8rem; color: #445; }
    .knobs input, .knobs select { font: inherit; font-size: 0.9rem; padding: 0.15rem 0.3rem; }
    .knobs input[aria-invalid='true'] { outline: 2px solid #c0392b; }
    .knobs .msg { color: #b42318; font-size: 0.75rem; }
    .bar { display: flex; gap: 0.5rem; align-items: center; margin: 0.5rem 0; flex-wrap: wrap; }
    button { font: inherit; padding: 0.3rem 0.9rem; border-radius: 5px; border: 1px solid #8893a6; background: #f2f4f8; cursor: pointer; }
    button.primary { background: #2456c9; color: #fff; border-color: #2456c9; }
    button:disabled { opacity: 0.5; cursor: default; }
    progress { flex: 1 1 8rem; min-width: 6rem; height: 0.8rem; }
    .stats { font-variant-numeric: tabular-nums; color: #334; font-size: 0.85rem; }
    .rows { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9rem; margin: 0.4rem 0; display: grid; gap: 0.35rem; }
    .row { white-space: pre-wrap; word-break: break-all; background: #f7f8fa; border-radius: 4px; padding: 0.25rem 0.4rem; line-height: 1.5; }
    .row span { border-radius: 2px; }
    .m { background: #d9dee7; color: #8a93a3; }
    .new { background: #fff1a8; }
    .d-exact { background: #dbe8ff; }
    .d-acc { background: #c9f0d2; box-shadow: inset 0 -2px 0 #17803d; }
    .d-rej { background: #ffd9d4; box-shadow: inset 0 -2px 0 #b42318; }
    .d-bonus { background: #e6dcff; box-shadow: inset 0 -2px 0 #5b3cc4; }
    .d-disc { background: #ffd9d4; color: #b42318; text-decoration: line-through; }
    .legend { font-size: 0.75rem; color: #556; display: flex; gap: 0.6rem; flex-wrap: wrap; }
    .legend span { padding: 0 0.3rem; border-radius: 2px; }
    canvas { image-rendering: pixelated; background: #fff; border: 1px solid #dde1e8; max-width: 100%; display: block; margin: 0.4rem 0; }
    footer { font-size: 0.85rem; color: #334; border-top: 1px solid #eef0f4; padding-top: 0.35rem; margin-top: 0.35rem; font-variant-numeric: tabular-nums; }
  `,
  ];

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.stop();
  }

  /** what is loaded: backend preference and model URL */
  private loadedKey = '';

  protected override willUpdate(changed: PropertyValues<this>): void {
    // first update or a new model/backend: (re)load — after attributes set by page scripts have landed
    const key = `${this.backend}|${resolveModelUrl(this.model, this.modelsBase)}|${this.allowedOrigins.join(' ')}`;
    if (this.isConnected && key !== this.loadedKey) {
      this.loadedKey = key;
      void this.load();
    }
    // knobs changed (attribute, property or input): re-check them all, so the marks stay current
    if (this.info && [...changed.keys()].some((k) => KNOB_PROPS.has(k as string))) this.checkAll();
  }

  /** the kind of the loaded model (mdm / asarm / image) */
  private get kind(): ModelKind | null {
    return this.info ? modelKind(this.info) : null;
  }

  /** the sampler in use (the attribute, or the model's first) */
  get effectiveSampler(): string {
    return this.sampler || (this.info ? (samplersOf(this.info)[0]?.[0] ?? '') : '');
  }

  private async load(): Promise<void> {
    const seq = ++this.loadSeq;
    this.stop();
    this.state = 'loading';
    this.error = undefined;
    this.info = undefined;
    this.tokens = undefined;
    this.done = undefined;
    try {
      const { backend } = await engineFor(this.backend);
      if (seq !== this.loadSeq) return;
      this.backendInfo = backend;
      const info = await modelFor(this.backend, resolveModelUrl(this.model, this.modelsBase), this.origins());
      if (seq !== this.loadSeq) return;
      if (!modelKind(info))
        throw new TypeError(
          `model "${info.name}" is a ${info.kind} model: <sample-scope> samples text (MDM, AS-ARM) and image diffusion models`,
        );
      this.tok = info.tokenizer ? await tokenizerFromSpec(info.tokenizer) : undefined;
      if (seq !== this.loadSeq) return;
      this.info = info;
      this.state = 'ready';
      if (this.autostart) void this.start();
    } catch (e) {
      if (seq !== this.loadSeq) return;
      this.fail(e);
    }
  }

  /** allowedOrigins for the loader (undefined: the page's origin only) */
  private origins(): string[] | undefined {
    return this.allowedOrigins.length ? [...this.allowedOrigins] : undefined;
  }

  private fail(e: unknown): void {
    this.error = errorDetail(e);
    this.state = 'error';
    this.emit('sample-error', this.error);
  }

  private emit(type: string, detail: unknown): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  /** the value of a knob as the element holds it */
  private knobValue(name: KnobName): unknown {
    if (name === 'sampler') return this.effectiveSampler;
    return (this as unknown as Record<string, unknown>)[name];
  }

  /** UI range checks of every knob that applies; the first failure, or null */
  private checkAll(): Error | null {
    if (!this.info) return null;
    const invalid = new Map<KnobName, string>();
    let first: Error | null = null;
    for (const spec of knobsFor(this.info, this.effectiveSampler)) {
      const value = spec.name === 'classLabel' ? this.classValue() : this.knobValue(spec.name);
      const e = checkKnob(spec, value);
      if (e) {
        invalid.set(spec.name, e.message);
        first ??= e;
      }
    }
    this.invalid = invalid;
    return first;
  }

  /** class-label as the select's value: a class name ('' = none); an index is mapped to its name */
  private classValue(): string {
    const c = this.classLabel.trim();
    if (!this.info || c === '' || !/^\d+$/.test(c)) return c;
    return conditionalClasses(this.info)[Number(c)] ?? c;
  }

  private classId(): number | undefined {
    const c = this.classValue();
    if (!this.info || c === '') return undefined;
    const i = this.info.classes.indexOf(c);
    return i >= 0 ? i : undefined;
  }

  /**
   * The sampler options of every knob the registry applies to this model and sampler, under their
   * option names (n → batch, the class → classId); unset optional knobs are left to the sampler.
   */
  private knobRequest(info: ModelInfo, sampler: string): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    for (const k of knobsFor(info, sampler)) {
      if (k.name === 'sampler' || k.name === 'classLabel') continue;
      const v = this.knobValue(k.name);
      if (v !== undefined) o[k.name === 'n' ? 'batch' : k.name] = v;
    }
    const classId = this.classId();
    if (classId !== undefined) o.classId = classId;
    return o;
  }

  private async buildText(info: ModelInfo): Promise<TextSampleRequest> {
    const sampler = this.effectiveSampler as TextSampleRequest['sampler'];
    const o = this.knobRequest(info, sampler) as TextSampleRequest['options'];
    if (sampler === 'speculative' && this.draftModel)
      o.draftModel = /^self:\d+$/.test(this.draftModel)
        ? this.draftModel
        : (await modelFor(this.backend, resolveModelUrl(this.draftModel, this.modelsBase), this.origins())).id;
    o.length ??= info.maxLength!;
    if (this.prompt && this.tok) o.prompt = encodePrompt(this.tok, this.prompt, o.length);
    // ancestral: tokens/step, when set, replaces the time grid
    if (sampler === 'ancestral') {
      if (o.tokensPerStep !== undefined) delete o.steps;
      else o.steps ??= knobDefault('steps', 'mdm', sampler) as number;
    }
    return { model: info.id, sampler, options: o };
  }

  private async buildImage(info: ModelInfo): Promise<ImageSampleRequest> {
    const sampler = this.effectiveSampler as 'ddim' | 'ddpm';
    const o = { ...this.knobRequest(info, sampler), sampler, previewEvery: 1 } as ImageSampleRequest['options'];
    o.steps ??= knobDefault('steps', 'image', sampler) as number;
    const req: ImageSampleRequest = { model: info.id, options: o };
    if ((o.lambda ?? 0) > 0 && this.lambdaModel)
      o.lambdaModel = (
        await modelFor(this.backend, resolveModelUrl(this.lambdaModel, this.modelsBase), this.origins())
      ).id;
    if (this.student) {
      const s = await modelFor(this.backend, resolveModelUrl(this.student, this.modelsBase), this.origins());
      req.hybrid = { student: s.id, baseSteps: this.baseSteps, studentSteps: this.studentSteps };
    }
    return req;
  }

  /**
   * Draw samples with the current knobs; resolves with the result summary, or undefined if the
   * knobs were rejected, the run was stopped or failed (see `sample-error`).
   */
  async start(): Promise<SampleDoneDetail | undefined> {
    const info = this.info;
    if (!info || this.state === 'running' || this.state === 'loading') return undefined;
    this.error = undefined;
    this.stoppedAt = undefined;
    const bad = this.checkAll();
    if (bad) {
      this.fail(bad);
      return undefined;
    }
    const kind = this.kind!;
    this.state = 'running';
    this.done = undefined;
    this.step = 0;
    this.nfe = 0;
    this.fraction = 0;
    this.elapsedMs = 0;
    this.drafts = undefined;
    this.fresh = undefined;
    this.tokens = undefined;
    this.lastImages = undefined;
    const controller = (this.controller = new AbortController());
    this.started = performance.now();
    this.timer = setInterval(() => {
      this.elapsedMs = performance.now() - this.started;
    }, 100);
    try {
      const { engine } = await engineFor(this.backend);
      let detail: SampleDoneDetail;
      if (kind === 'image') {
        const req = await this.buildImage(info);
        this.totalSteps = req.hybrid ? req.hybrid.baseSteps + req.hybrid.studentSteps : req.options.steps;
        this.emit('sample-start', { request: req });
        const r: ImageSampleResult = await engine.sampleImage(req, (p) => this.onProgress(p), {
          signal: controller.signal,
        });
        this.paint(r.images);
        detail = { nfe: r.nfe, ms: performance.now() - this.started, backend: r.backend, images: r.images };
      } else {
        const req = await this.buildText(info);
        this.totalSteps = undefined;
        this.tokens = new Uint32Array(req.options.batch * req.options.length).fill(info.maskId ?? 0);
        this.emit('sample-start', { request: req });
        const r: TextSampleResult = await engine.sampleText(req, (p) => this.onProgress(p), {
          signal: controller.signal,
        });
        this.tokens = r.samples;
        this.fresh = undefined;
        const spec = r as TextSampleResult & { proposed?: number; accepted?: number; draftNfe?: number };
        const ms = performance.now() - this.started;
        const p = req.options.prompt;
        const fixed = p ? p.filter((t) => t >= 0).length * (p.length === r.length ? r.batch : 1) : 0;
        const made = r.samples.length - fixed;
        detail = {
          nfe: r.nfe,
          ms,
          backend: r.backend,
          texts: r.texts,
          proposed: spec.proposed,
          accepted: spec.accepted,
          draftNfe: spec.draftNfe,
          tokensPerS: made / (ms / 1000),
        };
      }
      this.fraction = 1;
      this.nfe = detail.nfe;
      this.elapsedMs = detail.ms;
      this.done = detail;
      this.state = 'done';
      this.emit('sample-done', detail);
      return detail;
    } catch (e) {
      const err = e as Error & { step?: number };
      if (err?.name === 'AbortError') {
        this.state = 'stopped';
        this.stoppedAt = err.step ?? this.step;
        this.emit('sample-error', { name: err.name, code: (err as { code?: string }).code, message: err.message });
      } else {
        forget(this.backend, e); // a crashed worker's cached state is dropped
        if (this.nfe === 0) this.tokens = undefined; // nothing was drawn: show no all-[MASK] rows
        this.fail(e);
      }
      return undefined;
    } finally {
      clearInterval(this.timer);
      this.elapsedMs = performance.now() - this.started;
      if (this.controller === controller) this.controller = undefined;
    }
  }

  /** Cancel the running request (it settles as `stopped` after the model call in flight). */
  stop(): void {
    this.controller?.abort();
  }

  private onProgress(p: EngineProgress): void {
    if (this.state !== 'running') return;
    this.step = p.step;
    this.nfe = p.nfe;
    this.elapsedMs = performance.now() - this.started;
    if (p.tokens && this.info) {
      const mask = this.info.maskId;
      const prev = this.tokens;
      const fresh = new Uint8Array(p.tokens.length);
      let decided = 0;
      for (let i = 0; i < p.tokens.length; i++) {
        if (p.tokens[i] !== mask) decided++;
        if (prev && prev[i] !== p.tokens[i] && p.tokens[i] !== mask) fresh[i] = 1;
      }
      this.tokens = p.tokens;
      this.fresh = fresh;
      this.drafts = p.drafts;
      this.fraction = decided / p.tokens.length;
    }
    if (p.steps) {
      this.totalSteps = p.steps;
      this.fraction = (p.step + 1) / p.steps;
    }
    if (p.x0) this.paint(p.x0);
    this.emit('sample-progress', {
      step: p.step,
      steps: p.steps,
      nfe: p.nfe,
      fraction: this.fraction,
      elapsedMs: this.elapsedMs,
    });
  }

  /** draw (n, H, W, C) images in [0, 1] as dark ink on white, in a grid of up to 8 columns */
  private paint(images: Float32Array): void {
    this.lastImages = images;
    const c = this.canvas ?? (this.canvas = this.renderRoot.querySelector('canvas') ?? undefined);
    const shape = this.info?.imageShape;
    if (!c || !shape) return;
    const [H, W, C] = shape;
    const n = Math.floor(images.length / (H * W * C));
    const cols = Math.min(8, n),
      rows = Math.ceil(n / cols),
      gap = 2;
    c.width = cols * (W + gap) - gap;
    c.height = rows * (H + gap) - gap;
    const ctx = c.getContext('2d');
    if (!ctx) return;
    ctx.fillStyle = '#e8ebf0';
    ctx.fillRect(0, 0, c.width, c.height);
    const img = ctx.createImageData(W, H);
    for (let k = 0; k < n; k++) {
      for (let i = 0; i < H * W; i++) {
        let v = 0;
        for (let ch = 0; ch < C; ch++) v += images[(k * H * W + i) * C + ch];
        const g = Math.round(255 * (1 - Math.min(1, Math.max(0, v / C))));
        img.data.set([g, g, g, 255], i * 4);
      }
      ctx.putImageData(img, (k % cols) * (W + gap), Math.floor(k / cols) * (H + gap));
    }
    const scale = Math.max(1, Math.min(4, Math.floor(560 / c.width)));
    c.style.width = `${c.width * scale}px`;
  }

  protected override updated(): void {
    const c = this.renderRoot.querySelector('canvas') ?? undefined;
    if (c !== this.canvas) {
      this.canvas = c;
      if (c && this.lastImages) this.paint(this.lastImages);
    }
  }

  private onKnob(spec: KnobSpec, ev: Event): void {
    const el = ev.target as HTMLInputElement | HTMLSelectElement;
    const value = parseKnob(spec, el.value);
    const e = checkKnob(spec, value);
    const invalid = new Map(this.invalid);
    if (e) {
      invalid.set(spec.name, e.message);
    } else {
      invalid.delete(spec.name);
      (this as unknown as Record<string, unknown>)[spec.name] = value;
    }
    this.invalid = invalid;
  }

  private renderKnob(spec: KnobSpec) {
    const id = `k-${spec.name}`;
    const msg = this.invalid.get(spec.name);
    const disabled = this.state === 'running';
    if (spec.kind === 'select') {
      const value = spec.name === 'classLabel' ? this.classValue() : String(this.knobValue(spec.name) ?? '');
      return html`<label for=${id} title=${spec.help}>${spec.label}
        <select id=${id} name=${spec.attribute} ?disabled=${disabled} .value=${live(value)} @change=${(e: Event) => this.onKnob(spec, e)}>
          ${spec.options!.map(([v, l]) => html`<option value=${v} ?selected=${v === value}>${l}</option>`)}
        </select>${msg ? html`<span class="msg" role="alert">${msg}</span>` : nothing}</label>`;
    }
    const v = this.knobValue(spec.name) as number | undefined;
    return html`<label for=${id} title=${spec.help}>${spec.label}
      <input id=${id} name=${spec.attribute} type="number" inputmode="decimal" ?disabled=${disabled}
        min=${spec.min ?? nothing} max=${spec.max ?? nothing} step=${spec.step ?? (spec.kind === 'int' ? 1 : 'any')}
        placeholder=${spec.optional ? 'default' : ''} aria-invalid=${msg ? 'true' : 'false'}
        .value=${v === undefined || Number.isNaN(v) ? '' : String(v)} @input=${(e: Event) => this.onKnob(spec, e)}>
      ${msg ? html`<span class="msg" role="alert">${msg}</span>` : nothing}</label>`;
  }

  private renderRows() {
    const info = this.info,
      tokens = this.tokens;
    if (!info || !tokens || !info.vocab) return nothing;
    const L = this.done?.texts ? tokens.length / this.done.texts.length : (this.length ?? info.maxLength!);
    const B = Math.floor(tokens.length / L);
    const mask = info.maskId,
      vocab = info.vocab;
    const rows = [];
    for (let b = 0; b < B; b++) {
      const spans = [];
      // each position's text: the tokenizer's pieces (partial words joined, [MASK] as ·)
      const pieces = this.tok?.pieces(tokens.subarray(b * L, (b + 1) * L), '·');
      for (let i = 0; i < L; i++) {
        const k = b * L + i,
          t = tokens[k];
        const d = this.drafts?.[k] ?? 0;
        const cls =
          t === mask
            ? d === DRAFT_MARK.DISCARDED
              ? 'm d-disc'
              : 'm'
            : d
              ? DRAFT_CLASS[d]
              : this.fresh?.[k]
                ? 'new'
                : '';
        spans.push(html`<span class=${cls}>${pieces ? pieces[i] : t === mask ? '·' : vocab[t]}</span>`);
      }
      rows.push(html`<div class="row" role="listitem" aria-label=${`sample ${b + 1}`}>${spans}</div>`);
    }
    return html`<div class="rows" role="list">${rows}</div>`;
  }

  private renderLegend() {
    if (this.effectiveSampler !== 'assd')
      return html`<div class="legend"><span class="m">·</span> masked <span class="new">x</span> revealed by the last pass</div>`;
    return html`<div class="legend">last round: <span class="d-exact">exact draft</span><span class="d-acc">accepted draft</span><span class="d-rej">rejected → resampled</span><span class="d-bonus">bonus</span><span class="d-disc">discarded</span><span class="m">·</span> masked</div>`;
  }

  private renderBackend() {
    const b = this.backendInfo;
    if (!b) return nothing;
    if (b.name === 'cpu') {
      const fast = this.info?.path?.used === 'onnx-wasm';
      return html`<p class="notice" role="status">WebGPU is not available here, so sampling runs on the CPU ${fast ? html`— the model's ONNX form on onnxruntime-web's WebAssembly runtime (the fast CPU path, same weights)` : html`backend (the same maths, much slower)`}.${b.fallbackReason ? html` <span class="reason">${b.fallbackReason}</span>` : nothing}${this.info?.path ? html` <span class="reason">${this.info.path.reason}</span>` : nothing}</p>`;
    }
    if (b.adapter?.software) {
      const a = b.adapter;
      const fast = this.info?.path?.used === 'onnx-wasm';
      return html`<p class="notice" role="status">WebGPU runs on a software adapter (${[a.vendor, a.architecture].filter(Boolean).join(' ') || a.description || 'CPU'})${fast ? html`, so the model runs as its ONNX form on onnxruntime-web's WebAssembly runtime, measured faster here (the draws stay on WebGPU)` : html`: expect CPU speed or slower — keep lengths and batches small, or set backend="cpu"`}.${this.info?.path ? html` <span class="reason">${this.info.path.reason}</span>` : nothing}</p>`;
    }
    return nothing;
  }

  private backendLabel(): string {
    const b = this.backendInfo;
    if (!b) return '';
    if (b.name === 'cpu') return 'cpu';
    const a = b.adapter;
    return `webgpu${a ? ` (${[a.vendor, a.architecture].filter(Boolean).join(' ') || a.description}${a.software ? ', software' : ''})` : ''}`;
  }

  private renderProgress() {
    const pct = Math.round(this.fraction * 100);
    const steps = this.totalSteps
      ? `step ${Math.min(this.step + 1, this.totalSteps)} / ${this.totalSteps}`
      : `${pct}% decided`;
    const status =
      this.state === 'stopped'
        ? `stopped at step ${this.stoppedAt}`
        : this.state === 'loading'
          ? 'loading model…'
          : steps;
    return html`<div class="bar">
      <button class="primary" part="start" ?disabled=${this.state === 'running' || this.state === 'loading' || !this.info || this.invalid.size > 0} @click=${() => void this.start()}>Sample</button>
      <button part="stop" ?disabled=${this.state !== 'running'} @click=${() => this.stop()}>Stop</button>
      <progress max="100" .value=${pct} aria-label="progress">${pct}%</progress>
      <span class="stats" role="status" aria-live="off">${status} · NFE ${this.nfe} · ${(this.elapsedMs / 1000).toFixed(1)} s</span>
    </div>`;
  }

  private renderFooter() {
    const d = this.done;
    if (!d) return nothing;
    const spec = d.proposed
      ? ` · drafts accepted ${d.accepted} / ${d.proposed} (${Math.round((100 * d.accepted!) / d.proposed)}%)`
      : '';
    const draft = d.draftNfe !== undefined ? ` + ${d.draftNfe} draft passes` : '';
    const rate = d.tokensPerS !== undefined ? ` · ${d.tokensPerS.toFixed(1)} tokens/s` : '';
    const line = `NFE ${d.nfe}${draft} · ${(d.ms / 1000).toFixed(2)} s · ${this.backendLabel()}${rate}${spec}`;
    return html`<footer part="footer">${line}</footer>`;
  }

  protected override render() {
    const info = this.info;
    const title = this.heading || (info ? `${info.name} · ${this.effectiveSampler}` : this.model);
    return html`
      <h3 part="heading">${title}</h3>
      ${info ? html`<div class="meta">${info.family} · ${this.backendLabel()}</div>` : nothing}
      ${this.renderBackend()}
      ${info && !this.noKnobs ? html`<div class="knobs" part="knobs">${knobsFor(info, this.effectiveSampler).map((s) => this.renderKnob(s))}</div>` : nothing}
      ${this.renderProgress()}
      ${this.error ? html`<p class="error" role="alert"><strong>${this.error.name}</strong>: ${this.error.message}</p>` : nothing}
      ${this.kind === 'image' ? html`<canvas part="canvas" width="28" height="28" aria-label="samples"></canvas>` : this.renderRows()}
      ${info && this.kind !== 'image' && this.tokens ? this.renderLegend() : nothing}
      ${this.renderFooter()}
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'sample-scope': SampleScope;
  }
}
