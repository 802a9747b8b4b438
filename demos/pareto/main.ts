/**
 * Pareto explorer demo: a <pareto-explorer> whose chosen points set the knobs of the <sample-scope>
 * below it. URL parameters set the explorer's attributes (`?backend=cpu&grid=guidance=1,4;steps=2`,
 * `classes`, `per-class`, `seed`, `model`) as well as the scope's knobs (common/page.ts); the
 * explorer's events are logged on `window.__demo` like the samplers'. "Show the measured digits sweep"
 * plots the committed 12-setting sweep (bench/results/, bundled as an asset) without running anything.
 */
import '../../src/ui/pareto-explorer.js';
import type { SweepRecord } from '../../src/sweep/records.js';
import { setupPage } from '../common/page.js';
import measured from '../../bench/results/sweep-digits-guidance-steps.jsonl?url';

setupPage();
const explorer = document.querySelector('pareto-explorer')!;
const q = new URLSearchParams(location.search);
for (const k of ['model', 'backend', 'grid', 'classes', 'per-class', 'seed', 'keep-samples']) {
  const v = q.get(k);
  if (v !== null) explorer.setAttribute(k, v);
}
for (const type of ['sweep-start', 'sweep-record', 'sweep-done', 'sweep-error', 'sweep-loaded', 'point-select']) {
  explorer.addEventListener(type, (ev) => {
    const d = (ev as CustomEvent).detail as Record<string, unknown>;
    // keep the log small: indices, not records
    const { record, records, ...rest } = d;
    const detail = {
      ...rest,
      ...(record ? { index: (record as SweepRecord).index } : {}),
      ...(records ? { count: (records as SweepRecord[]).length } : {}),
    };
    window.__demo!.events.push({ type, id: explorer.id, detail });
  });
}

const button = document.getElementById('example') as HTMLButtonElement;
button.addEventListener('click', async () => {
  button.disabled = true;
  try {
    const res = await fetch(measured);
    if (!res.ok) throw new Error(`${measured}: HTTP ${res.status}`);
    explorer.loadText(await res.text(), 'sweep-digits-guidance-steps.jsonl');
  } finally {
    button.disabled = false;
  }
});
