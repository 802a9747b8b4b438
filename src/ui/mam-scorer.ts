/**
 * `<mam-scorer>`: type any partial text ("?" marks an unknown character) and see its
 * log-likelihood under a marginalization model (MaM) for every class, each in one model pass
 * (`engine.score`), updated as you type. The text is laid out as the first characters of a window of
 * `length` characters (default: the model's maximum); the rest of the window is unknown, as in the
 * CLI's `score` command. User text is rendered as text only. Nothing observed shows "nothing observed"
 * (no pass: the log-probability of an empty observation is 0), and the model's measured calibration
 * error (its manifest's `calibration`, from scripts/calibrate-mam.ts) is shown beside the scores — or
 * a warning that it was never measured.
 *
 * Events: `score-done` {scores: [{label, classId?, logp, perChar}], observed, ms}, `score-error` {name, message}.
 */
import { css, html, nothing } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { ModelInfo } from '../worker/protocol.js';
import { engineFor } from './engine-host.js';
import { MamElement } from './mam-element.js';
import { boxes } from './styles.js';
import { conditionalClasses } from './knobs.js';

export interface ScoreLine {
  label: string;
  classId?: number;
  logp: number;
  perChar: number;
}

/** Characters → token ids; '?' = unknown (mask); returns the first offending character otherwise. */
export function tokenizePartial(
  text: string,
  vocab: string[],
  maskId: number,
  length: number,
): { tokens: Uint32Array; observed: number } | { bad: string; index: number } {
  const tokens = new Uint32Array(length).fill(maskId);
  let observed = 0;
  const chars = [...text];
  if (chars.length > length)
    return { bad: `the text is longer than the window of ${length} characters`, index: length };
  for (let i = 0; i < chars.length; i++) {
    if (chars[i] === '?') continue;
    const id = vocab.indexOf(chars[i]);
    if (id < 0 || id === maskId)
      return {
        bad: `character ${JSON.stringify(chars[i])} (position ${i + 1}) is not in the model's vocabulary`,
        index: i,
      };
    tokens[i] = id;
    observed++;
  }
  return { tokens, observed };
}

@customElement('mam-scorer')
export class MamScorer extends MamElement {
  /** A MaM text model: a name under `models-base` or a model folder URL. */
  protected readonly tag = '<mam-scorer>';
  @property() model = 'text-mam';
  /** Window length scored (default: the model's maximum). */
  @property({ type: Number }) length?: number;
  /** The text to score ("?" = unknown character). */
  @property() text = 'Call me Ishmael. Some years ago - never mind how long prec?sely - having l?ttle or no money';
  /** Milliseconds to wait after typing before scoring. */
  @property({ type: Number }) debounce = 300;
  /** (read-only) loading | scoring | done | error */
  @property({ reflect: true }) state: 'loading' | 'scoring' | 'done' | 'error' = 'loading';

  @state() private scores?: ScoreLine[];
  @state() private observed = 0;
  @state() private ms = 0;
  private pending?: ReturnType<typeof setTimeout>;

  static override styles = [
    boxes,
    css`
    :host { display: block; font: 14px/1.4 system-ui, sans-serif; color: #1d2430; }
    textarea { width: 100%; box-sizing: border-box; font: 0.95rem ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; padding: 0.4rem; min-height: 4.5rem; }
    table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 0.4rem 0; }
    th, td { padding: 0.2rem 0.8rem; text-align: right; border-bottom: 1px solid #eef0f4; }
    th:first-child, td:first-child { text-align: left; }
    tr.best td { font-weight: 600; color: #17803d; }
    .meta { color: #556; font-size: 0.85rem; }
  `,
  ];

  protected loaded(info: ModelInfo): void {
    this.info = info;
    void this.score();
  }

  private onInput(e: Event): void {
    this.text = (e.target as HTMLTextAreaElement).value;
    clearTimeout(this.pending);
    this.pending = setTimeout(() => void this.score(), this.debounce);
  }

  /** Score the current text under every class (and unconditionally); one pass each. */
  async score(): Promise<void> {
    const info = this.info;
    if (!info) return;
    await this.scorePass(() => this.scoreText(info));
  }

  private async scoreText(info: ModelInfo): Promise<void> {
    const L = this.length ?? info.maxLength!;
    const tok = tokenizePartial(this.text, info.vocab!, info.maskId!, L);
    if ('bad' in tok) {
      this.error = { name: 'InputError', message: tok.bad };
      this.state = 'error';
      return;
    }
    this.error = undefined;
    if (tok.observed === 0) {
      this.scores = [];
      this.observed = 0;
      this.ms = 0;
      this.state = 'done';
      this.scoreDone({ scores: [], observed: 0, ms: 0 });
      return;
    }
    this.state = 'scoring';
    const { engine } = await engineFor(this.backend);
    const t0 = performance.now();
    const lines: ScoreLine[] = [];
    const classes = conditionalClasses(info);
    for (const [label, classId] of [
      ...classes.map((c): [string, number | undefined] => [c, info.classes.indexOf(c)]),
      ['unconditional', undefined] as [string, undefined],
    ]) {
      const [logp] = await engine.score(info.id, tok.tokens.slice(), 1, L, classId);
      lines.push({ label, classId, logp, perChar: logp / Math.max(1, tok.observed) });
    }
    this.ms = performance.now() - t0;
    this.scores = lines;
    this.observed = tok.observed;
    this.state = 'done';
    this.scoreDone({ scores: lines, observed: tok.observed, ms: this.ms });
  }

  /** How far to trust the numbers: the manifest's measured calibration, or a warning when there is none. */
  private calibrationNote() {
    const c = this.info?.calibration;
    if (c) {
      return html`<p class="meta" id="calibration">Calibration: on ${c.snippets} held-out snippets, this one-pass log p differs from
        ${c.evaluator}'s exact likelihood by <strong>±${c.vsExact.meanAbsPerChar.toFixed(2)} nats per observed character</strong>
        on average (rank correlation ${c.vsExact.spearman.toFixed(2)}); moving a text within the window changes it by
        ${c.padding.meanAbsPerChar.toFixed(2)} nats per character.</p>`;
    }
    const unconstrained = (this.info?.marginalForm ?? 'mean-linear') === 'mean-linear';
    return html`<p class="notice" id="calibration">This model's calibration was never measured${unconstrained ? ', and its marginal head is unconstrained: these values need not be normalized log-probabilities' : ''}.</p>`;
  }

  protected override render() {
    const info = this.info,
      b = this.backendInfo;
    const best = this.scores
      ?.filter((s) => s.classId !== undefined)
      .reduce<ScoreLine | undefined>((a, s) => (!a || s.logp > a.logp ? s : a), undefined);
    return html`
      ${b?.name === 'cpu' ? html`<p class="notice" role="status">WebGPU is not available here, so scoring runs on the CPU backend. ${b.fallbackReason ?? ''}</p>` : nothing}
      <label for="t">Text (<code>?</code> = unknown character${info ? `, window ${this.length ?? info.maxLength} characters` : ''})</label>
      <textarea id="t" spellcheck="false" maxlength=${this.length ?? info?.maxLength ?? 128} .value=${this.text} @input=${(e: Event) => this.onInput(e)}></textarea>
      ${this.error ? html`<p class="error" role="alert"><strong>${this.error.name}</strong>: ${this.error.message}</p>` : nothing}
      ${this.scores && this.observed === 0 ? html`<p class="meta" role="status" id="nothing">Nothing observed: every character is unknown, so there is nothing to score.</p>` : nothing}
      ${
        this.scores && this.observed > 0
          ? html`<table aria-label="log-likelihood">
          <thead><tr><th scope="col">class</th><th scope="col">log p (nats)</th><th scope="col">per observed char</th></tr></thead>
          <tbody>${this.scores.map((s) => html`<tr class=${s === best ? 'best' : ''}><td>${s.label}</td><td>${s.logp.toFixed(2)}</td><td>${s.perChar.toFixed(3)}</td></tr>`)}</tbody>
        </table>
        <div class="meta">${this.observed} observed characters · ${this.scores.length} passes in ${this.ms.toFixed(0)} ms${this.state === 'scoring' ? ' · scoring…' : ''}</div>
        ${this.calibrationNote()}`
          : this.scores
            ? nothing
            : html`<div class="meta">${this.state === 'loading' ? 'loading model…' : this.state === 'scoring' ? 'scoring…' : ''}</div>`
      }
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'mam-scorer': MamScorer;
  }
}
