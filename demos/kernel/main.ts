/**
 * Kernel demo: the engine worker runs a matmul and the categorical sampler on whatever backend it
 * gets (WebGPU, else the CPU twins), and the page checks both against the reference. The outcome is
 * also published on `window.__samplescope` for the end-to-end test.
 */
import { createEngine } from '../../src/worker/client.js';
import { matmulRef } from '../../src/reference/matmul.js';
import { chiSquare } from '../../src/metrics/chi2.js';
import { DEMO_DRAWS, DEMO_LOGITS, DEMO_SIZE, demoMatrix } from './inputs.js';

interface DemoState {
  status: 'running' | 'done' | 'error';
  seed: number;
  backend?: string;
  adapter?: string;
  software?: boolean;
  fallbackReason?: string;
  maxAbsErr?: number;
  cHead?: number[];
  workerMs?: number;
  counts?: number[];
  pValue?: number;
  error?: { name: string; message: string };
}

declare global {
  interface Window {
    __samplescope?: DemoState;
  }
}

const $ = (id: string) => document.getElementById(id)!;

function row(dl: HTMLElement, term: string, value: string, cls = ''): void {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  if (cls) dd.className = cls;
  dl.append(dt, dd);
}

const engine = createEngine();
let seed = Number(new URLSearchParams(location.search).get('seed') ?? 1);

async function run(): Promise<void> {
  const state: DemoState = { status: 'running', seed };
  window.__samplescope = state;
  ($('again') as HTMLButtonElement).disabled = true;
  const adapterDl = $('adapter');
  adapterDl.replaceChildren();
  row(adapterDl, 'status', 'running…');
  try {
    const info = await engine.init('auto');
    adapterDl.replaceChildren();
    row(adapterDl, 'backend', info.name, info.name === 'webgpu' ? 'ok' : 'bad');
    const a = info.adapter;
    if (a) {
      row(adapterDl, 'adapter', [a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' · '));
      row(adapterDl, 'kind', a.software ? 'software rasteriser (CPU) — timings are not GPU timings' : 'hardware');
    }
    if (info.fallbackReason) row(adapterDl, 'fallback', info.fallbackReason, 'bad');
    Object.assign(state, {
      backend: info.name,
      adapter: a ? `${a.vendor} ${a.architecture} ${a.device} ${a.description}`.trim() : 'cpu',
      software: a?.software,
      fallbackReason: info.fallbackReason,
    });

    // matmul
    const n = DEMO_SIZE;
    const A = demoMatrix(n * n, seed, 1),
      B = demoMatrix(n * n, seed, 2);
    const res = await engine.matmul({ a: A.slice(), b: B.slice(), M: n, K: n, N: n });
    const ref = matmulRef(A, B, { batch: 1, M: n, K: n, N: n });
    let maxErr = 0;
    for (let i = 0; i < ref.length; i++) maxErr = Math.max(maxErr, Math.abs(res.c[i] - ref[i]));
    const mm = $('matmul');
    mm.replaceChildren();
    row(mm, 'backend', res.backend);
    row(mm, 'max |gpu − twin|', maxErr.toExponential(2), maxErr < 1e-4 ? 'ok' : 'bad');
    row(mm, 'worker time', `${res.ms.toFixed(1)} ms (upload + kernel + readback; first run includes compilation)`);
    Object.assign(state, { maxAbsErr: maxErr, cHead: Array.from(res.c.subarray(0, 16)), workerMs: res.ms });

    // categorical
    const V = DEMO_LOGITS.length;
    const logits = new Float32Array(V * DEMO_DRAWS);
    for (let r = 0; r < DEMO_DRAWS; r++) logits.set(DEMO_LOGITS, r * V);
    const draws = await engine.sample({ logits, rows: DEMO_DRAWS, V, options: { seed, temperature: 1 } });
    const counts = new Array(V).fill(0);
    for (const t of draws) counts[t]++;
    const m = Math.max(...DEMO_LOGITS);
    const w = Array.from(DEMO_LOGITS, (l) => Math.exp(l - m));
    const z = w.reduce((s, x) => s + x, 0);
    const p = w.map((x) => x / z);
    const body = $('cat').querySelector('tbody')!;
    body.replaceChildren();
    for (let i = 0; i < V; i++) {
      const tr = document.createElement('tr');
      for (const v of [String(i), DEMO_LOGITS[i].toFixed(1), p[i].toFixed(4), (counts[i] / DEMO_DRAWS).toFixed(4)]) {
        const td = document.createElement('td');
        td.textContent = v;
        tr.append(td);
      }
      body.append(tr);
    }
    const chi = chiSquare(counts, p);
    const chiEl = $('chi');
    chiEl.textContent = `χ² = ${chi.statistic.toFixed(2)} on ${chi.df} df, p = ${chi.pValue.toFixed(3)} (seed ${seed})`;
    chiEl.className = chi.pValue > 0.001 ? 'ok' : 'bad';
    Object.assign(state, { counts, pValue: chi.pValue, status: 'done' });
  } catch (e) {
    const err = e as Error;
    adapterDl.replaceChildren();
    row(adapterDl, 'error', `${err.name}: ${err.message}`, 'bad');
    Object.assign(state, { status: 'error', error: { name: err.name, message: err.message } });
  } finally {
    ($('again') as HTMLButtonElement).disabled = false;
  }
}

$('again').addEventListener('click', () => {
  seed++;
  void run();
});
void run();
