/**
 * Shared by the demo pages: registers the elements, applies URL knobs (`?length=16&n=1&steps=4` —
 * for shareable links and for tests with tiny settings) to every <sample-scope> on the page, records
 * the elements' events on `window.__demo` (read by the end-to-end tests), and starts sampling at once
 * only on a hardware GPU (on a software adapter or the CPU backend the page waits for a click).
 */
import '../../src/ui/sample-scope.js';
import '../../src/ui/mam-scorer.js';
import '../../src/ui/ising-grid.js';
import type { SampleScope } from '../../src/ui/sample-scope.js';
import { engineFor } from '../../src/ui/engine-host.js';
import { KNOBS } from '../../src/knobs/registry.js';

/**
 * attributes a URL parameter may set on every <sample-scope> of a page: every knob attribute of the
 * registry (src/knobs/registry.ts) but the sampler (pages put different samplers side by side), and the backend
 */
export const URL_KNOBS = [
  ...KNOBS.filter((k) => k.attribute && k.name !== 'sampler').map((k) => k.attribute!),
  'backend',
];

export interface DemoEvent {
  type: string;
  /** the element's id */
  id: string;
  detail: Record<string, unknown>;
}

declare global {
  interface Window {
    __demo?: { events: DemoEvent[]; autostarted?: boolean };
  }
}

const EVENTS = ['sample-start', 'sample-progress', 'sample-done', 'sample-error', 'score-done', 'score-error'];

/** Set up a demo page; returns its <sample-scope> elements. */
export function setupPage(): SampleScope[] {
  const demo = (window.__demo = { events: [] as DemoEvent[] });
  for (const type of EVENTS) {
    document.addEventListener(type, (ev) => {
      const d = (ev as CustomEvent).detail as Record<string, unknown>;
      // keep the log small: no sample arrays
      const { images: _i, request: _r, ...rest } = d;
      demo.events.push({ type, id: (ev.target as HTMLElement).id, detail: rest });
    });
  }
  const scopes = [...document.querySelectorAll('sample-scope')];
  const q = new URLSearchParams(location.search);
  for (const s of scopes) {
    for (const k of URL_KNOBS) {
      const v = q.get(k);
      if (v !== null) s.setAttribute(k, v);
    }
  }
  for (const el of document.querySelectorAll('mam-scorer, ising-grid')) {
    if (q.get('backend')) el.setAttribute('backend', q.get('backend')!);
    if (el.localName !== 'mam-scorer') continue;
    if (q.get('length')) el.setAttribute('length', q.get('length')!);
    if (q.get('text')) el.setAttribute('text', q.get('text')!);
  }
  for (const a of document.querySelectorAll<HTMLAnchorElement>('nav.demos a')) {
    if (new URL(a.href).pathname === location.pathname) a.setAttribute('aria-current', 'page');
  }
  return scopes;
}

/** Start these scopes together (each once it is loaded). */
export async function startAll(scopes: SampleScope[]): Promise<void> {
  await Promise.all(
    scopes.map(async (s) => {
      for (let i = 0; i < 600 && s.state === 'loading'; i++) await new Promise((r) => setTimeout(r, 100));
      return s.start();
    }),
  );
}

/**
 * Wire a "sample all" button; start at once on a hardware GPU unless `?autostart=0`, otherwise
 * explain in `notice` why the page waits.
 */
export async function autostartOnHardware(
  scopes: SampleScope[],
  button: HTMLButtonElement,
  notice: HTMLElement,
): Promise<void> {
  const busy = () => scopes.some((s) => s.state === 'running');
  const sync = () => {
    button.disabled = busy();
  };
  for (const s of scopes)
    for (const t of ['sample-start', 'sample-done', 'sample-error']) s.addEventListener(t, () => queueMicrotask(sync));
  button.addEventListener('click', () => void startAll(scopes));
  const q = new URLSearchParams(location.search);
  const { backend } = await engineFor((q.get('backend') as 'auto' | 'webgpu' | 'cpu' | null) ?? 'auto');
  if (q.get('autostart') === '0') return;
  if (backend.name === 'webgpu' && !backend.adapter?.software) {
    window.__demo!.autostarted = true;
    void startAll(scopes);
  } else {
    notice.hidden = false;
    notice.textContent =
      backend.name === 'cpu'
        ? 'No WebGPU here (see the notice below): nothing starts by itself — lower the length or steps, then press the button.'
        : 'Software WebGPU adapter (see the notice below): nothing starts by itself — lower the length or steps, then press the button.';
  }
}
