/**
 * The Pareto explorer's plots (src/ui/pareto-explorer.ts): one SVG scatter per pair of axes with that
 * pair's non-dominated front, and the detail panel of the hovered or chosen setting. Templates over a
 * `FrontView` (the explorer's records and selection, and what to call back); the state stays in the
 * element. SVG rendered by Lit's templates, no charting library: every visual property is an SVG
 * attribute (the pages' CSP has no inline styles), so the exported SVG is self-contained.
 */
import { html, nothing, svg } from 'lit';
import type { KnobValue } from '../sweep/spec.js';
import { AXES, fromBase64, type Axis, type SweepRecord } from '../sweep/records.js';

/** What the plots, the detail panel and the table show and call back. */
export interface FrontView {
  records: SweepRecord[];
  /** the kind of model swept (realism is −NLL for text, PRDC density for images) */
  kind?: 'image' | 'text';
  hovered?: number;
  selected?: number;
  /** the point of each plot that Tab reaches */
  focusPos: Record<string, number>;
  /** classes (ids → names) of the sweep shown, when known */
  classIds?: number[];
  classNames?: string[];
  hover(pos: number): void;
  focus(pair: string, at: number, pos: number): void;
  choose(pos: number): void;
  key(ev: KeyboardEvent, pair: string, order: number[], at: number): void;
}

/** Round-number ticks covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, n = 4): number[] {
  const span = hi - lo || 1;
  const raw = span / n,
    mag = 10 ** Math.floor(Math.log10(raw)),
    f = raw / mag;
  const step = (f >= 7.5 ? 10 : f >= 3.5 ? 5 : f >= 1.5 ? 2 : 1) * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + span * 1e-9; v += step) out.push(Number(v.toFixed(10)));
  return out;
}

export const fmt = (x: number) =>
  Number.isFinite(x) ? (Number.isInteger(x) ? String(x) : Math.abs(x) >= 100 ? x.toFixed(0) : x.toPrecision(3)) : 'n/a';
/** tick labels with as many decimals as their spacing needs */
const tickFmt = (ts: number[]) => (t: number) =>
  t.toFixed(ts.length > 1 ? Math.max(0, Math.ceil(-Math.log10(ts[1] - ts[0]) - 1e-9)) : 2);
export const knobText = (knobs: Record<string, KnobValue>) =>
  Object.entries(knobs)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');

/** The three panels: x axis, y axis. */
export const PAIRS: [Axis, Axis][] = [
  ['consistency', 'diversity'],
  ['consistency', 'realism'],
  ['diversity', 'realism'],
];
export const FRONT_3D = AXES.join('×');
export const W = 340,
  H = 260,
  M = { l: 50, r: 14, t: 14, b: 42 };
export const INK = '#1d2430',
  ACCENT = '#2456c9',
  PICK = '#d9480f',
  GRID = '#e3e7ee';

const thumbCache = new WeakMap<SweepRecord, string[]>();

function axisLabel(a: Axis, kind: 'image' | 'text' | undefined): string {
  if (a === 'consistency') return 'consistency (classifier accuracy)';
  if (a === 'diversity') return 'diversity (Vendi, within class)';
  return kind === 'text' ? 'realism (−NLL per char)' : 'realism (PRDC density)';
}

export function renderPlot(v: FrontView, [xa, ya]: [Axis, Axis], fronts: Record<string, number[]>) {
  const pair = `${xa}×${ya}`;
  const recs = v.records;
  const pts = recs
    .map((r, pos) => ({ pos, x: r.axes[xa], y: r.axes[ya] }))
    .filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const front = new Set(fronts[pair] ?? []);
  const front3 = new Set(fronts[FRONT_3D] ?? []);
  const dom = (vs: number[]) => {
    let lo = Math.min(...vs),
      hi = Math.max(...vs);
    if (!vs.length) {
      lo = 0;
      hi = 1;
    }
    const pad = (hi - lo) * 0.08 || Math.max(Math.abs(hi) * 0.1, 0.05);
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = dom(pts.map((p) => p.x)),
    [y0, y1] = dom(pts.map((p) => p.y));
  const sx = (v: number) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (v: number) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
  const order = [...pts].sort((a, b) => a.x - b.x || b.y - a.y).map((p) => p.pos);
  const line = order
    .filter((p) => front.has(p))
    .map((p) => `${sx(recs[p].axes[xa]).toFixed(1)},${sy(recs[p].axes[ya]).toFixed(1)}`)
    .join(' ');
  const active = Math.min(v.focusPos[pair] ?? 0, Math.max(0, order.length - 1));
  const id = `plot-${xa}-${ya}`;
  const hot = v.hovered,
    picked = v.selected;
  const points = order.map((pos, at) => {
    const r = recs[pos];
    const onFront = front.has(pos);
    const label = `setting ${r.index}: ${knobText(r.knobs)}; ${xa} ${fmt(r.axes[xa])}, ${ya} ${fmt(r.axes[ya])}${onFront ? '; on this front' : ''}${front3.has(pos) ? '; on the 3-D front' : ''}`;
    const stroke = pos === picked ? PICK : pos === hot ? INK : onFront ? ACCENT : '#8893a6';
    return svg`<circle class="pt" data-pos=${pos} data-index=${r.index} data-front=${onFront ? '1' : '0'}
      cx=${sx(r.axes[xa]).toFixed(1)} cy=${sy(r.axes[ya]).toFixed(1)} r=${pos === hot || pos === picked ? 7 : 5}
      fill=${onFront ? ACCENT : '#ffffff'} stroke=${stroke} stroke-width=${pos === hot || pos === picked ? 2.5 : 1.5}
      tabindex=${at === active ? 0 : -1} role="button" aria-label=${label}
      @mouseenter=${() => v.hover(pos)} @focus=${() => v.focus(pair, at, pos)}
      @click=${() => v.choose(pos)} @keydown=${(e: KeyboardEvent) => v.key(e, pair, order, at)}><title>${label}</title></circle>`;
  });
  const xt = niceTicks(x0, x1),
    yt = niceTicks(y0, y1);
  const xf = tickFmt(xt),
    yf = tickFmt(yt);
  return html`<figure>
    <svg class="plot" data-pair=${pair} viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="group" aria-labelledby=${id} xmlns="http://www.w3.org/2000/svg">
      ${svg`<title id=${id}>${ya} against ${xa}: ${pts.length} settings, ${front.size} on the front</title>
      <rect x=${M.l} y=${M.t} width=${W - M.l - M.r} height=${H - M.t - M.b} fill="#ffffff" stroke="#c6ccd6"/>
      ${xt.map((t) => svg`<line x1=${sx(t)} x2=${sx(t)} y1=${M.t} y2=${H - M.b} stroke=${GRID}/><text x=${sx(t)} y=${H - M.b + 14} text-anchor="middle" font-size="10" font-family="system-ui, sans-serif" fill="#556">${xf(t)}</text>`)}
      ${yt.map((t) => svg`<line x1=${M.l} x2=${W - M.r} y1=${sy(t)} y2=${sy(t)} stroke=${GRID}/><text x=${M.l - 5} y=${sy(t) + 3} text-anchor="end" font-size="10" font-family="system-ui, sans-serif" fill="#556">${yf(t)}</text>`)}
      <text x=${(M.l + W - M.r) / 2} y=${H - 8} text-anchor="middle" font-size="11" font-family="system-ui, sans-serif" fill=${INK}>${axisLabel(xa, v.kind)} →</text>
      <text transform="translate(13 ${(M.t + H - M.b) / 2}) rotate(-90)" text-anchor="middle" font-size="11" font-family="system-ui, sans-serif" fill=${INK}>${axisLabel(ya, v.kind)} →</text>
      ${line ? svg`<polyline class="front" points=${line} fill="none" stroke=${ACCENT} stroke-width="1.5" stroke-dasharray="4 3"/>` : nothing}
      ${points}`}
    </svg>
    <figcaption>${ya} vs ${xa} — ${front.size} of ${pts.length} non-dominated</figcaption>
  </figure>`;
}

/** thumbnails of a record's kept images as PNG data URLs (drawn once per record) */
function thumbnails(r: SweepRecord): string[] {
  const img = r.samples?.images;
  if (!img) return [];
  let urls = thumbCache.get(r);
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
    thumbCache.set(r, urls);
  }
  return urls;
}

export function renderDetail(v: FrontView, fronts: Record<string, number[]>) {
  const pos = v.hovered ?? v.selected;
  const r = pos === undefined ? undefined : v.records[pos];
  if (!r)
    return html`<div class="detail" role="status" aria-live="polite"><p class="empty">Hover or focus a point to see its knobs and samples; click it (or press Enter) to load that setting into the sampler.</p></div>`;
  const on = PAIRS.filter(([a, b]) => fronts[`${a}×${b}`]?.includes(pos!)).map(([a, b]) => `${a}×${b}`);
  if (fronts[FRONT_3D]?.includes(pos!)) on.push('3-D');
  const thumbs = thumbnails(r);
  const cls = (j: number) => {
    const c = r.samples?.classes[j];
    if (c === undefined) return '';
    const at = v.classIds?.indexOf(c) ?? -1;
    return at >= 0 ? v.classNames![at] : String(c);
  };
  return html`<div class="detail" role="status" aria-live="polite">
    <dl>
      <dt>setting</dt><dd>#${r.index}${pos === v.selected ? ' (chosen)' : ''}</dd>
      ${Object.entries(r.knobs).map(([k, v]) => html`<dt>${k}</dt><dd>${String(v)}</dd>`)}
      ${AXES.map((a) => html`<dt>${a}</dt><dd>${fmt(r.axes[a])}</dd>`)}
      <dt>NFE</dt><dd>${fmt(r.nfe)} · ${(r.ms / 1000).toFixed(1)} s · ${r.backend}</dd>
      <dt>front</dt><dd>${on.length ? on.join(', ') : 'dominated everywhere'}</dd>
    </dl>
    <div class="thumbs" aria-label="samples of this setting">
      ${
        thumbs.length
          ? thumbs.map(
              (u, j) =>
                html`<figure><img src=${u} alt=${`sample ${j + 1}${cls(j) ? `, class ${cls(j)}` : ''}`} width="56" height="56"><figcaption>${cls(j)}</figcaption></figure>`,
            )
          : r.samples?.texts?.length
            ? r.samples.texts.map((t, j) => html`<figure><pre>${t}…</pre><figcaption>${cls(j)}</figcaption></figure>`)
            : html`<p class="empty">No samples kept for this setting (run with keep-samples &gt; 0 to see some).</p>`
      }
    </div>
  </div>`;
}
