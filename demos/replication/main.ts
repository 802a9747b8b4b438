/**
 * Replication report page: plots the committed JSON lines of `npm run replication`
 * (bench/replication/results.jsonl, bundled as a same-origin asset — nothing is computed or fetched from
 * elsewhere): the claims table with verdicts, consistency × Vendi for the digits settings (teacher
 * guidance, the λ curve, guided at half the steps, student and hybrids) and for text guidance, NLL per
 * character against passes for FHS vs ancestral, and every setting's statistics. Every point carries
 * its 95 % intervals as whiskers. Rendered with Lit templates; all visual properties are SVG attributes
 * or stylesheet classes (the page's CSP has no inline styles).
 */
import { html, render, svg, nothing, type TemplateResult } from 'lit';
import results from '../../bench/replication/results.jsonl?url';
import {
  claimRows,
  intervalText,
  parseReport,
  statName,
  type ReportLine,
  type RunLine,
  type SettingLine,
} from '../../bench/replication/report.js';
import type { Interval } from '../../bench/replication/stats.js';
import { niceTicks } from '../../src/ui/pareto-plots.js';

const W = 460,
  H = 320,
  M = { l: 56, r: 16, t: 12, b: 44 };
const COLORS = ['#2456c9', '#d9480f', '#2b8a3e', '#7048e8', '#868e96'];

interface Series {
  name: string;
  /** setting ids in the order the line joins them */
  ids: string[];
}

/** Scatter of stat x × stat y with 95 % whiskers, one polyline per series; `xOf` overrides x (e.g. passes). */
function plot(
  id: string,
  title: string,
  settings: Map<string, SettingLine>,
  series: Series[],
  x: { stat: string; label: string; of?: (s: SettingLine) => Interval },
  y: { stat: string; label: string },
): TemplateResult {
  const pts = series.map((se) =>
    se.ids
      .map((i) => settings.get(i))
      .filter((s): s is SettingLine => !!s && (!!x.of || x.stat in s.stats) && y.stat in s.stats)
      .map((s) => ({ s, x: x.of ? x.of(s) : s.stats[x.stat], y: s.stats[y.stat] })),
  );
  const all = pts.flat();
  if (!all.length) return html`<p class="note">No ${title} in these results.</p>`;
  const ext = (vs: number[]) => {
    const lo = Math.min(...vs),
      hi = Math.max(...vs),
      pad = (hi - lo || Math.abs(hi) || 1) * 0.06;
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = ext(all.flatMap((p) => [p.x.lo, p.x.hi, p.x.est].filter(Number.isFinite)));
  const [y0, y1] = ext(all.flatMap((p) => [p.y.lo, p.y.hi, p.y.est].filter(Number.isFinite)));
  const sx = (v: number) => M.l + ((v - x0) / (x1 - x0)) * (W - M.l - M.r);
  const sy = (v: number) => H - M.b - ((v - y0) / (y1 - y0)) * (H - M.t - M.b);
  const fin = (v: number, alt: number) => (Number.isFinite(v) ? v : alt);
  return html`<figure>
    <svg class="plot" data-plot=${id} viewBox="0 0 ${W} ${H}" width=${W} height=${H} role="img" aria-label=${title}>
      ${niceTicks(x0, x1).map(
        (t) =>
          svg`<line x1=${sx(t)} x2=${sx(t)} y1=${M.t} y2=${H - M.b} stroke="#e3e7ee"></line>
            <text x=${sx(t)} y=${H - M.b + 14} font-size="10" text-anchor="middle" fill="#445">${t}</text>`,
      )}
      ${niceTicks(y0, y1).map(
        (t) =>
          svg`<line x1=${M.l} x2=${W - M.r} y1=${sy(t)} y2=${sy(t)} stroke="#e3e7ee"></line>
            <text x=${M.l - 6} y=${sy(t) + 3} font-size="10" text-anchor="end" fill="#445">${t}</text>`,
      )}
      <text x=${(M.l + W - M.r) / 2} y=${H - 8} font-size="11" text-anchor="middle" fill="#1d2430">${x.label}</text>
      <text x="12" y=${(M.t + H - M.b) / 2} font-size="11" text-anchor="middle" fill="#1d2430"
        transform="rotate(-90 12 ${(M.t + H - M.b) / 2})">${y.label}</text>
      ${pts.map((ps, k) => {
        const c = COLORS[k % COLORS.length];
        return svg`<polyline points=${ps.map((p) => `${sx(p.x.est)},${sy(p.y.est)}`).join(' ')} fill="none"
            stroke=${c} stroke-width="1.2" stroke-dasharray=${k ? '4 3' : nothing}></polyline>
          ${ps.map(
            (p) => svg`<g class="pt" data-id=${p.s.id}>
              <line x1=${sx(fin(p.x.lo, p.x.est))} x2=${sx(fin(p.x.hi, p.x.est))} y1=${sy(p.y.est)} y2=${sy(p.y.est)} stroke=${c}></line>
              <line x1=${sx(p.x.est)} x2=${sx(p.x.est)} y1=${sy(fin(p.y.lo, p.y.est))} y2=${sy(fin(p.y.hi, p.y.est))} stroke=${c}></line>
              <circle cx=${sx(p.x.est)} cy=${sy(p.y.est)} r="3.5" fill=${c}>
                <title>${p.s.label}: ${statName(x.stat)} ${intervalText(p.x)}, ${statName(y.stat)} ${intervalText(p.y)}</title>
              </circle>
              <text x=${sx(p.x.est) + 5} y=${sy(p.y.est) - 5 + 11 * k} font-size="9" fill="#556">${p.s.id}</text>
            </g>`,
          )}`;
      })}
    </svg>
    <figcaption class="note">
      ${title}. ${series.map((se, k) => html`<span class="swatch" data-color=${k}>${se.name}</span> `)} Whiskers: 95 %
      bootstrap intervals.
    </figcaption>
  </figure>`;
}

const passes = (s: SettingLine): Interval => (typeof s.nfe === 'number' ? { est: s.nfe, lo: s.nfe, hi: s.nfe } : s.nfe);

function page(lines: ReportLine[]): TemplateResult {
  const settings = new Map(
    lines.filter((l): l is SettingLine => l.type === 'setting').map((s) => [`${s.section}/${s.id}`, s]),
  );
  const bySection = (section: string) =>
    new Map(
      [...settings].filter(([k]) => k.startsWith(`${section}/`)).map(([k, v]) => [k.slice(section.length + 1), v]),
    );
  const digits = bySection('digits'),
    text = bySection('text'),
    mdm = bySection('mdm');
  const runs = lines.filter((l): l is RunLine => l.type === 'run');
  const verdictClass = (v: string) =>
    v.startsWith('shown') ? 'ok' : v === 'opposite' || v.startsWith('not shown') ? 'bad' : 'open';
  return html`
    <section aria-labelledby="claims">
      <h2 id="claims">Claims</h2>
      <p class="note">
        Each claim is tested as a difference between two settings with a 95 % bootstrap interval over samples (resampled
        within each requested class). <b>shown</b>: the interval excludes 0 on the claimed side (for "equal": lies within
        the margin); <b>not resolved</b>: it does not at this sample size; <b>opposite</b>: it excludes 0 on the other side.
        Nothing here is tuned to the claims.
      </p>
      <table class="report" id="claims-table">
        <thead><tr><th>paper</th><th>claim</th><th>measured as</th><th>ours (95 % CI)</th><th>verdict</th></tr></thead>
        <tbody>
          ${claimRows(lines).map(
            (r) =>
              html`<tr>${r.slice(0, 4).map((c) => html`<td>${c}</td>`)}<td class=${verdictClass(r[4])}>${r[4]}</td></tr>`,
          )}
        </tbody>
      </table>
    </section>
    <section aria-labelledby="plots">
      <h2 id="plots">Trade-offs</h2>
      <div class="pair">
        ${plot(
          'digits',
          'digits-diffusion, DDIM: consistency × diversity',
          digits,
          [
            { name: 'teacher, guidance w = 1, 2, 3, 5', ids: ['teacher-w1', 'teacher-w2', 'teacher-w3', 'teacher-w5'] },
            {
              name: 'λ = 0 … 1 (student mixed in)',
              ids: ['teacher-w1', 'lambda-0.25', 'lambda-0.5', 'lambda-0.75', 'lambda-1'],
            },
            { name: 'guided at half the steps', ids: ['teacher-w2-half', 'teacher-w3-half'] },
            { name: 'student, then 2 / 4 base steps first', ids: ['student-2', 'hybrid-2', 'hybrid-4'] },
          ],
          { stat: 'consistency', label: 'consistency (classifier accuracy)' },
          { stat: 'vendi', label: 'Vendi within class' },
        )}
        ${plot(
          'text',
          'text-mdm, guidance s = 1, 3: consistency × diversity',
          text,
          [{ name: 's = 1 → 3', ids: ['text-s1', 'text-s3'] }],
          { stat: 'consistency', label: 'consistency (text classifier)' },
          { stat: 'vendi', label: 'Vendi within class' },
        )}
        ${plot(
          'mdm',
          'text-mdm, 32 characters: NLL under text-asarm × passes',
          mdm,
          [
            { name: 'ancestral, N = 4, 8, 32 steps', ids: ['ancestral-4', 'ancestral-8', 'ancestral-32'] },
            { name: 'FHS (exact), precise and naive fp32 draws', ids: ['fhs', 'fhs-naive-f32'] },
          ],
          { stat: 'passes', label: 'passes per sample', of: passes },
          { stat: 'nll', label: 'NLL per character (nats)' },
        )}
      </div>
    </section>
    <section aria-labelledby="settings">
      <h2 id="settings">Settings</h2>
      <table class="report" id="settings-table">
        <thead><tr><th>section</th><th>setting</th><th>n</th><th>passes / sample</th><th>statistics (95 % CI)</th></tr></thead>
        <tbody>
          ${[...settings.values()].map(
            (s) => html`<tr>
              <td>${s.section}</td><td>${s.id}: ${s.label}</td><td>${s.n}</td>
              <td>${typeof s.nfe === 'number' ? s.nfe : intervalText(s.nfe, 1)}</td>
              <td>${Object.entries(s.stats).map(([k, v]) => html`${statName(k)} ${intervalText(v)}<br />`)}</td>
            </tr>`,
          )}
        </tbody>
      </table>
      <p class="note">
        Runs: ${runs.map((r) => html`<code>${r.command}</code> (${r.date.slice(0, 10)}, ${r.commit}, ${r.backend}) `)}
      </p>
    </section>
  `;
}

const main = document.getElementById('report')!;
try {
  const res = await fetch(results);
  if (!res.ok) throw new Error(`${results}: HTTP ${res.status}`);
  const lines = parseReport(await res.text());
  main.replaceChildren();
  render(page(lines), main);
  main.dataset.state = 'done';
} catch (e) {
  main.replaceChildren();
  render(html`<p class="notice" role="alert">Could not read the results: ${(e as Error).message}</p>`, main);
  main.dataset.state = 'error';
}
