/**
 * The Pareto explorer's table (src/ui/pareto-explorer.ts): every setting, its knobs, axes and NFE, the
 * 3-D front in bold, and a button that loads the setting into the `<sample-scope>`.
 */
import { html, nothing } from 'lit';
import { AXES } from '../sweep/records.js';
import { fmt, FRONT_3D, knobText, type FrontView } from './pareto-plots.js';

export function renderTable(v: FrontView, fronts: Record<string, number[]>) {
  const recs = v.records;
  if (!recs.length) return nothing;
  const knobs = [...new Set(recs.flatMap((r) => Object.keys(r.knobs)))];
  const f3 = new Set(fronts[FRONT_3D] ?? []);
  return html`<table>
    <caption>Every setting (bold: on the 3-D front — no other setting is at least as good on all three axes and better on one)</caption>
    <thead><tr><th scope="col">#</th>${knobs.map((k) => html`<th scope="col">${k}</th>`)}${AXES.map((a) => html`<th scope="col">${a}</th>`)}<th scope="col">NFE</th><th scope="col">3-D front</th><th scope="col"><span class="sr">load</span></th></tr></thead>
    <tbody>${recs.map(
      (
        r,
        pos,
      ) => html`<tr class=${[f3.has(pos) ? 'front3' : '', pos === v.hovered ? 'hot' : '', pos === v.selected ? 'picked' : ''].join(' ').trim()} data-index=${r.index} data-front3=${f3.has(pos) ? '1' : '0'}
        @mouseenter=${() => v.hover(pos)}>
      <td>${r.index}</td>${knobs.map((k) => html`<td>${r.knobs[k] === undefined ? '' : String(r.knobs[k])}</td>`)}${AXES.map((a) => html`<td>${fmt(r.axes[a])}</td>`)}
      <td>${fmt(r.nfe)}</td><td>${f3.has(pos) ? '✓' : '—'}</td>
      <td><button class="small" @click=${() => v.choose(pos)} aria-label=${`load setting ${r.index} (${knobText(r.knobs)}) into the sampler`}>load</button></td>
    </tr>`,
    )}</tbody>
  </table>`;
}
