/**
 * `<ising-grid>`: a clickable L×L Ising configuration (each site +1, −1 or unobserved) and its
 * log-probability under the MaM (`engine.score`, one pass, any partial configuration), updated on
 * every change. For a full configuration the exact value is shown beside it:
 * log p(x) = β Σ_⟨ij⟩ x_i x_j − log Z (free boundaries; β and log Z from the manifest). "Sample"
 * draws a configuration with the first-hitting sampler over the model's token head, live.
 *
 * Events: `score-done` {logp, exact?, observed, ms}, `score-error` {name, message}.
 */
import { css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ModelInfo } from '../worker/protocol.js';
import { engineFor } from './engine-host.js';
import { MamElement } from './mam-element.js';
import { boxes } from './styles.js';

/** spin tokens of ising-mam: 0 = −1, 1 = +1, 2 = unobserved */
const DOWN = 0,
  UP = 1,
  UNK = 2;

/** Exact log p of a full ±1 configuration (raster order) of the free-boundary L×L Ising model. */
export function isingExactLogp(spins: ArrayLike<number>, L: number, beta: number, logZ: number): number {
  let s = 0;
  for (let y = 0; y < L; y++) {
    for (let x = 0; x < L; x++) {
      const v = spins[y * L + x];
      if (x + 1 < L) s += v * spins[y * L + x + 1];
      if (y + 1 < L) s += v * spins[(y + 1) * L + x];
    }
  }
  return beta * s - logZ;
}

@customElement('ising-grid')
export class IsingGrid extends MamElement {
  /** An Ising MaM model: a name under `models-base` or a model folder URL. */
  protected readonly tag = '<ising-grid>';
  @property() model = 'ising-mam';
  /** Seed of the "Sample" and "random" buttons. */
  @property({ type: Number }) seed = 1;
  /** (read-only) loading | scoring | sampling | done | error */
  @property({ reflect: true }) state: 'loading' | 'scoring' | 'sampling' | 'done' | 'error' = 'loading';

  @state() private spins?: Uint32Array;
  @state() private logp?: number;
  @state() private exact?: number;
  @state() private ms = 0;
  private side = 10;
  private beta = 0;
  private logZ = 0;

  static override styles = [
    boxes,
    css`
    :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2430; }
    .grid { display: grid; gap: 2px; width: max-content; margin: 0.4rem 0; }
    .grid button { width: 1.6rem; height: 1.6rem; padding: 0; border: 1px solid #aab2c0; border-radius: 3px; font: 600 0.9rem ui-monospace, monospace; cursor: pointer; }
    .s0 { background: #1d2430; color: #fff; }
    .s1 { background: #f4f6fa; color: #1d2430; }
    .s2 { background: repeating-linear-gradient(45deg, #d9dee7, #d9dee7 3px, #eef0f4 3px, #eef0f4 6px); color: #667; }
    .tools { display: flex; gap: 0.4rem; flex-wrap: wrap; margin: 0.3rem 0; }
    .tools button { font: inherit; padding: 0.2rem 0.6rem; }
    dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.2rem 0.8rem; font-variant-numeric: tabular-nums; }
    dt { color: #667; }
    dd { margin: 0; }
  `,
  ];

  protected loaded(info: ModelInfo): void {
    // L, β and log Z come with the model from the worker (validated there): no second read here
    if (!info.ising) throw new TypeError(`model "${info.name}" has no "ising" section in its manifest`);
    this.side = info.ising.L;
    this.beta = info.ising.beta;
    this.logZ = info.ising.logZ;
    this.info = info;
    this.preset('random');
  }

  /** Fill the grid: 'unknown', 'up', 'checker', 'random' (full) or 'half' (random, half unobserved). */
  preset(kind: 'unknown' | 'up' | 'checker' | 'random' | 'half'): void {
    const n = this.side * this.side;
    const s = new Uint32Array(n);
    let r = (this.seed * 2654435761) >>> 0 || 1;
    const rand = () => (r = (Math.imul(r, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    for (let i = 0; i < n; i++) {
      const x = i % this.side,
        y = Math.floor(i / this.side);
      s[i] =
        kind === 'unknown'
          ? UNK
          : kind === 'up'
            ? UP
            : kind === 'checker'
              ? (x + y) % 2
              : kind === 'random'
                ? rand() < 0.5
                  ? UP
                  : DOWN
                : rand() < 0.5
                  ? UNK
                  : rand() < 0.5
                    ? UP
                    : DOWN;
    }
    this.seed++;
    this.spins = s;
    void this.score();
  }

  private cycle(i: number): void {
    if (!this.spins || this.state === 'sampling') return;
    const s = this.spins.slice();
    s[i] = s[i] === UNK ? UP : s[i] === UP ? DOWN : UNK;
    this.spins = s;
    void this.score();
  }

  /** Score the current configuration (one MaM pass; exact too when fully observed). */
  async score(): Promise<void> {
    const info = this.info,
      spins = this.spins;
    if (!info || !spins) return;
    await this.scorePass(async () => {
      this.state = 'scoring';
      this.error = undefined;
      const { engine } = await engineFor(this.backend);
      const t0 = performance.now();
      const [logp] = await engine.score(info.id, spins.slice(), 1, spins.length);
      this.ms = performance.now() - t0;
      this.logp = logp;
      const full = spins.every((t) => t !== UNK);
      this.exact = full
        ? isingExactLogp(
            Array.from(spins, (t) => (t === UP ? 1 : -1)),
            this.side,
            this.beta,
            this.logZ,
          )
        : undefined;
      this.state = 'done';
      this.scoreDone({ logp, exact: this.exact, observed: spins.filter((t) => t !== UNK).length, ms: this.ms });
    });
  }

  /** Draw a configuration with FHS over the token head (observed sites are kept as a prompt). */
  async sample(): Promise<void> {
    const info = this.info,
      spins = this.spins;
    if (!info || !spins || this.running) return;
    this.running = true;
    this.state = 'sampling';
    this.error = undefined;
    let ok = false;
    try {
      const { engine } = await engineFor(this.backend);
      const prompt = Int32Array.from(spins, (t) => (t === UNK ? -1 : t));
      const r = await engine.sampleText(
        { model: info.id, sampler: 'fhs', options: { batch: 1, length: spins.length, seed: this.seed++, prompt } },
        (p) => {
          if (p.tokens) this.spins = p.tokens;
        },
      );
      this.spins = r.samples;
      ok = true;
    } catch (e) {
      this.fail(e);
    } finally {
      this.running = false;
    }
    if (ok) void this.score();
  }

  protected override updated(): void {
    // through the CSSOM, not a style attribute: the demo's CSP has no 'unsafe-inline' for styles
    const grid = this.renderRoot.querySelector<HTMLElement>('.grid');
    if (grid) grid.style.gridTemplateColumns = `repeat(${this.side}, 1.6rem)`;
  }

  protected override render() {
    const b = this.backendInfo,
      s = this.spins;
    const busy = this.state === 'sampling' || this.state === 'loading';
    const observed = s ? s.filter((t) => t !== UNK).length : 0;
    return html`
      ${b?.name === 'cpu' ? html`<p class="notice" role="status">WebGPU is not available here, so the model runs on the CPU backend. ${b.fallbackReason ?? ''}</p>` : nothing}
      <div class="tools">
        <button ?disabled=${busy} @click=${() => this.preset('random')}>random</button>
        <button ?disabled=${busy} @click=${() => this.preset('up')}>all +</button>
        <button ?disabled=${busy} @click=${() => this.preset('checker')}>checkerboard</button>
        <button ?disabled=${busy} @click=${() => this.preset('half')}>half observed</button>
        <button ?disabled=${busy} @click=${() => this.preset('unknown')}>all unknown</button>
        <button ?disabled=${busy} @click=${() => void this.sample()}>Sample (FHS)</button>
      </div>
      ${
        s
          ? html`<div class="grid" role="grid" aria-label="spins" >
        ${Array.from(s, (t, i) => html`<button class=${`s${t}`} aria-label=${`site ${i}: ${t === UP ? '+1' : t === DOWN ? '−1' : 'unobserved'}`} ?disabled=${busy} @click=${() => this.cycle(i)}>${t === UP ? '+' : t === DOWN ? '−' : '?'}</button>`)}
      </div>`
          : nothing
      }
      <p class="meta">Click a site to cycle +1 → −1 → unobserved.</p>
      ${this.error ? html`<p class="error" role="alert"><strong>${this.error.name}</strong>: ${this.error.message}</p>` : nothing}
      <dl aria-label="log-likelihood">
        <dt>observed sites</dt><dd>${observed} / ${s?.length ?? 0}</dd>
        <dt>MaM log p</dt><dd class="logp">${this.logp === undefined ? '…' : `${this.logp.toFixed(3)} nats (one pass, ${this.ms.toFixed(0)} ms)`}</dd>
        <dt>exact log p</dt><dd class="exact">${this.exact === undefined ? 'only for a full configuration' : `${this.exact.toFixed(3)} nats (β = ${this.beta}, free boundaries)`}</dd>
      </dl>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'ising-grid': IsingGrid;
  }
}
