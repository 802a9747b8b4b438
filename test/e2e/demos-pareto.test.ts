// The Pareto explorer page of the built site (static server, strict CSP), in Chromium:
// 1. a saved sweep (the measured bench/results/sweep-digits-guidance-steps.jsonl) loaded through the
//    file input is plotted in three panels, one point per setting at coordinates ordered like its
//    axis values, and the points marked and joined as each pair's front are exactly `sweepFronts` of
//    those records (the table marks the 3-D front the same way);
// 2. keyboard: Tab stop on a plot, End moves to the highest-consistency setting, Enter sets its knobs
//    (guidance, steps) on the page's <sample-scope>;
// 3. exports: the JSON lines download parses back to the same records, the SVG holds the three plots,
//    the PNG is a PNG of the SVG's size (×2);
// 4. a 2-setting digits sweep on the CPU backend runs end to end in the worker: records stream in
//    (progress events 1/2, 2/2), progress reaches 100%, hovering shows the kept samples as 28×28
//    thumbnails whose pixels are the record's kept grey levels; clicking a point sets the scope's knobs and the scope
//    samples them to 100%.
// No console errors or CSP violations. Screenshots: bench/results/screenshots/demo-pareto.png (the
// saved sweep, a point hovered) and demo-pareto-run.png (the tiny sweep and the sampled setting).
import { describe, expect, it } from 'vitest';
import type { ElementHandle, Page } from 'puppeteer-core';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AXES, parseJsonLines, sweepFronts, type SweepRecord } from '../../src/sweep/records.js';
import { openPage, ROOT, SCREENSHOTS, useBuiltSite } from '../util/site.js';

const site = useBuiltSite();
const JSONL = join(ROOT, 'bench/results/sweep-digits-guidance-steps.jsonl');
const PAIRS = [
  ['consistency', 'diversity'],
  ['consistency', 'realism'],
  ['diversity', 'realism'],
] as const;

interface Plotted {
  pair: string;
  points: { index: number; front: boolean; cx: number; cy: number; tab: string | null }[];
  line: [number, number][];
}

/** every panel: its points (record index, front mark, position, tabindex) and the front polyline's vertices */
const plots = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll<SVGSVGElement>('svg.plot')].map(
      (svg) => ({
        pair: svg.dataset.pair!,
        points: [...svg.querySelectorAll<SVGCircleElement>('.pt')].map((c) => ({
          index: Number(c.dataset.index),
          front: c.dataset.front === '1',
          cx: Number(c.getAttribute('cx')),
          cy: Number(c.getAttribute('cy')),
          tab: c.getAttribute('tabindex'),
        })),
        line: (svg.querySelector('polyline.front')?.getAttribute('points') ?? '')
          .trim()
          .split(/\s+/)
          .filter(Boolean)
          .map((p) => p.split(',').map(Number) as [number, number]),
      }),
    ),
  ) as Promise<Plotted[]>;

/** the plots agree with the records: positions ordered like the axes, front marks and line = sweepFronts */
function checkPlots(got: Plotted[], records: SweepRecord[]): void {
  const fronts = sweepFronts(records);
  const byIndex = new Map(records.map((r) => [r.index, r]));
  expect(got.map((p) => p.pair)).toEqual(PAIRS.map(([a, b]) => `${a}×${b}`));
  for (const [k, [xa, ya]] of PAIRS.entries()) {
    const p = got[k],
      pair = `${xa}×${ya}`;
    expect(
      p.points.map((q) => q.index).sort((a, b) => a - b),
      pair,
    ).toEqual(records.map((r) => r.index));
    const want = fronts[pair].map((i) => records[i].index).sort((a, b) => a - b);
    expect(
      p.points
        .filter((q) => q.front)
        .map((q) => q.index)
        .sort((a, b) => a - b),
      pair,
    ).toEqual(want);
    // screen x grows with the x axis, screen y shrinks as the y axis grows
    for (const a of p.points)
      for (const b of p.points) {
        const ra = byIndex.get(a.index)!,
          rb = byIndex.get(b.index)!;
        if (ra.axes[xa] < rb.axes[xa]) expect(a.cx, `${pair} x ${a.index} ${b.index}`).toBeLessThan(b.cx);
        if (ra.axes[ya] < rb.axes[ya]) expect(a.cy, `${pair} y ${a.index} ${b.index}`).toBeGreaterThan(b.cy);
      }
    // the front line passes through exactly the front's points, left to right
    const frontPts = p.points.filter((q) => q.front).sort((a, b) => a.cx - b.cx || a.cy - b.cy);
    expect(p.line.length, pair).toBe(want.length);
    expect(p.line.map(([x]) => x)).toEqual([...p.line.map(([x]) => x)].sort((a, b) => a - b));
    expect(new Set(p.line.map(([x, y]) => `${x.toFixed(1)},${y.toFixed(1)}`))).toEqual(
      new Set(frontPts.map((q) => `${q.cx.toFixed(1)},${q.cy.toFixed(1)}`)),
    );
    expect(
      p.points.filter((q) => q.tab === '0'),
      `${pair}: one tab stop`,
    ).toHaveLength(1);
  }
}

const explorerState = (page: Page) =>
  page.evaluate(() => {
    const x = document.querySelector('pareto-explorer')!,
      sr = x.shadowRoot!;
    return {
      state: x.state,
      progress: (sr.querySelector('progress') as HTMLProgressElement).value,
      stats: sr.querySelector('.bar .stats')!.textContent!.trim(),
      alert: sr.querySelector('.error')?.textContent ?? '',
      records: JSON.stringify(x.records),
    };
  });

/** PNG width and height from its IHDR chunk */
function pngSize(b: Buffer): [number, number] {
  expect([...b.subarray(0, 8)]).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

async function waitForFile(dir: string, suffix: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const f = readdirSync(dir).find((n) => n.endsWith(suffix));
    if (f) return join(dir, f);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no *${suffix} downloaded into ${dir}`);
}

describe('Pareto explorer page (built site)', () => {
  it('plots a saved sweep with its fronts; keyboard choice sets the sampler; exports JSON lines, SVG, PNG', async () => {
    expect(existsSync(JSONL), `${JSONL} (the measured sweep) is missing`).toBe(true);
    const records = parseJsonLines(readFileSync(JSONL, 'utf8'));
    expect(records).toHaveLength(12);
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/pareto/?backend=cpu`);
    await page.waitForFunction(() => document.querySelector('pareto-explorer')?.shadowRoot?.querySelector('#file'), {
      timeout: 60_000,
      polling: 100,
    });
    expect(
      await page.evaluate(
        () => document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll('svg.plot').length,
      ),
    ).toBe(0);
    const input = (await page.evaluateHandle(() =>
      document.querySelector('pareto-explorer')!.shadowRoot!.querySelector('#file'),
    )) as ElementHandle<HTMLInputElement>;
    await input.uploadFile(JSONL);
    await page.waitForFunction(
      () => document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll('svg.plot .pt').length === 36,
      { timeout: 30_000, polling: 100 },
    );
    const s = await explorerState(page);
    expect(s.alert).toBe('');
    expect(s.state).toBe('done');
    expect(s.stats).toBe('12 settings loaded');
    expect(JSON.parse(s.records)).toEqual(records);
    checkPlots(await plots(page), records);
    const table = await page.evaluate(() =>
      [...document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll('tbody tr')].map((tr) => ({
        index: Number((tr as HTMLElement).dataset.index),
        f3: (tr as HTMLElement).dataset.front3 === '1',
      })),
    );
    const f3 = sweepFronts(records)[AXES.join('×')].map((i) => records[i].index);
    expect(table.map((r) => r.index)).toEqual(records.map((r) => r.index));
    expect(table.filter((r) => r.f3).map((r) => r.index)).toEqual(f3);

    // keyboard: the consistency × realism plot's tab stop, End → the most consistent setting, Enter
    const best = [...records]
      .sort((a, b) => a.axes.consistency - b.axes.consistency || b.axes.realism - a.axes.realism)
      .at(-1)!;
    await page.evaluate(() =>
      (
        document
          .querySelector('pareto-explorer')!
          .shadowRoot!.querySelector('svg[data-pair="consistency×realism"] .pt[tabindex="0"]') as SVGElement
      ).focus(),
    );
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('End');
    expect(
      await page.evaluate(
        () =>
          (document.querySelector('pareto-explorer')!.shadowRoot!.activeElement as SVGElement | null)?.dataset.index,
      ),
    ).toBe(String(best.index));
    expect(
      await page.evaluate(
        () => document.querySelector('pareto-explorer')!.shadowRoot!.querySelector('.detail')!.textContent,
      ),
    ).toContain(`#${best.index}`);
    const before = await page.evaluate(() => {
      const sc = document.querySelector('sample-scope')!;
      return [sc.guidance, sc.steps];
    });
    expect(before).not.toEqual([best.knobs.guidance, best.knobs.steps]);
    await page.keyboard.press('Enter');
    const after = await page.evaluate(() => {
      const sc = document.querySelector('sample-scope')!;
      return {
        guidance: sc.guidance,
        steps: sc.steps,
        model: sc.getAttribute('model'),
        events: window.__demo!.events.filter((e) => e.type === 'point-select').map((e) => e.detail.index),
      };
    });
    expect(after).toEqual({
      guidance: best.knobs.guidance,
      steps: best.knobs.steps,
      model: 'digits-diffusion',
      events: [best.index],
    });

    // exports, downloaded for real
    const dir = mkdtempSync(join(tmpdir(), 'samplescope-dl-'));
    try {
      const cdp = await page.createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: dir });
      const click = (part: string) =>
        page.evaluate(
          (p) =>
            (
              document.querySelector('pareto-explorer')!.shadowRoot!.querySelector(`[part="${p}"]`) as HTMLButtonElement
            ).click(),
          part,
        );
      await click('export-jsonl');
      expect(parseJsonLines(readFileSync(await waitForFile(dir, '.jsonl'), 'utf8'))).toEqual(records);
      await click('export-svg');
      const svgText = readFileSync(await waitForFile(dir, '.svg'), 'utf8');
      expect(svgText).toMatch(/^<\?xml[^>]*>\s*<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="1052" height="288"/);
      expect(svgText.match(/<circle /g)).toHaveLength(36);
      expect(svgText.match(/<polyline /g)).toHaveLength(3);
      expect(svgText).not.toContain('<!--');
      await click('export-png');
      expect(pngSize(readFileSync(await waitForFile(dir, '.png')))).toEqual([2 * 1052, 2 * 288]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    // hover a front point for the screenshot
    const hover = (await page.evaluateHandle(() =>
      document
        .querySelector('pareto-explorer')!
        .shadowRoot!.querySelector('svg[data-pair="consistency×diversity"] .pt[data-front="1"]'),
    )) as ElementHandle<SVGCircleElement>;
    await hover.hover();
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-pareto.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  }, 180_000);

  it('runs a 2-setting sweep in the worker, shows kept samples, and the chosen setting samples', async () => {
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/pareto/?backend=cpu&n=2`);
    await page.waitForFunction(() => document.querySelector('pareto-explorer')?.shadowRoot?.querySelector('#g-steps'), {
      timeout: 60_000,
      polling: 100,
    });
    // the model list: the served generators that have a classifier (and for text an evaluator) beside them
    await page.waitForFunction(
      () => document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll('#model option').length > 1,
      { timeout: 60_000, polling: 100 },
    );
    expect(
      await page.evaluate(() =>
        [...document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll('#model option')].map(
          (o) => (o as HTMLOptionElement).value,
        ),
      ),
    ).toEqual(['digits-diffusion', 'digits-diffusion-onnx', 'digits-guided', 'text-mdm', 'text-mdm-onnx']);
    const type = (id: string, v: string) =>
      page.evaluate(
        (i, t) => {
          const el = document.querySelector('pareto-explorer')!.shadowRoot!.querySelector(`#${i}`) as HTMLInputElement;
          el.value = t;
          el.dispatchEvent(new Event('input'));
        },
        id,
        v,
      );
    // a bad value is marked and refused before anything runs
    await type('g-steps', '2, 0');
    await page.waitForFunction(
      () =>
        document
          .querySelector('pareto-explorer')!
          .shadowRoot!.querySelector('#g-steps')!
          .getAttribute('aria-invalid') === 'true',
      { timeout: 10_000, polling: 100 },
    );
    await type('g-guidance', '1, 4');
    await type('g-steps', '2');
    await type('classes', '1, 7');
    await type('per-class', '3');
    await page.waitForFunction(
      () =>
        document
          .querySelector('pareto-explorer')!
          .shadowRoot!.querySelector('#grid-hint')!
          .textContent!.includes('2 settings'),
      { timeout: 10_000, polling: 100 },
    );
    await page.evaluate(() =>
      (
        document.querySelector('pareto-explorer')!.shadowRoot!.querySelector('[part="run"]') as HTMLButtonElement
      ).click(),
    );
    await page.waitForFunction(
      () => ['done', 'error', 'stopped'].includes(document.querySelector('pareto-explorer')!.state),
      { timeout: 150_000, polling: 250 },
    );
    const s = await explorerState(page);
    expect(s.alert).toBe('');
    expect(s.state).toBe('done');
    expect(s.progress).toBe(100);
    expect(s.stats).toMatch(/^2 \/ 2 settings/);
    const records = JSON.parse(s.records) as SweepRecord[];
    expect(records.map((r) => r.knobs)).toEqual([
      { guidance: 1, steps: 2 },
      { guidance: 4, steps: 2 },
    ]);
    expect(records.map((r) => r.nfe)).toEqual([2, 4]); // guided steps evaluate the denoiser twice
    for (const r of records) {
      expect(r.backend).toBe('cpu');
      for (const a of AXES) expect(Number.isFinite(r.axes[a]), a).toBe(true);
      expect(r.samples?.classes).toEqual([1, 7, 1, 7]);
    }
    const events = await page.evaluate(() =>
      window
        .__demo!.events.filter((e) => e.type.startsWith('sweep-'))
        .map((e) => [e.type, e.detail.done ?? e.detail.total ?? e.detail.count]),
    );
    expect(events).toEqual([
      ['sweep-start', 2],
      ['sweep-record', 1],
      ['sweep-record', 2],
      ['sweep-done', 2],
    ]);
    checkPlots(await plots(page), records);

    // hover → the kept samples as thumbnails: 28×28 PNGs showing exactly the record's kept grey levels (ink dark)
    const pt = (await page.evaluateHandle(() =>
      document
        .querySelector('pareto-explorer')!
        .shadowRoot!.querySelector('svg[data-pair="consistency×diversity"] .pt[data-index="1"]'),
    )) as ElementHandle<SVGCircleElement>;
    await pt.hover();
    await page.waitForFunction(
      () => document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll('.thumbs img').length === 4,
      { timeout: 10_000, polling: 100 },
    );
    const thumbs = await page.evaluate(async () => {
      const imgs = [
        ...document.querySelector('pareto-explorer')!.shadowRoot!.querySelectorAll<HTMLImageElement>('.thumbs img'),
      ];
      return Promise.all(
        imgs.map(async (img) => {
          await img.decode();
          const c = document.createElement('canvas');
          c.width = img.naturalWidth;
          c.height = img.naturalHeight;
          const ctx = c.getContext('2d')!;
          ctx.drawImage(img, 0, 0);
          const d = ctx.getImageData(0, 0, c.width, c.height).data;
          return {
            w: img.naturalWidth,
            h: img.naturalHeight,
            red: Array.from({ length: d.length / 4 }, (_, i) => d[i * 4]),
            alt: img.alt,
            src: img.src.slice(0, 22),
          };
        }),
      );
    });
    expect(thumbs.map((t) => [t.w, t.h, t.src])).toEqual(Array(4).fill([28, 28, 'data:image/png;base64,']));
    expect(thumbs.map((t) => t.alt)).toEqual([
      'sample 1, class 1',
      'sample 2, class 7',
      'sample 3, class 1',
      'sample 4, class 7',
    ]);
    const kept = Buffer.from(records[1].samples!.images!.data, 'base64');
    expect(kept.length).toBe(4 * 784);
    thumbs.forEach((t, k) =>
      expect(t.red, `thumbnail ${k}`).toEqual(Array.from(kept.subarray(k * 784, (k + 1) * 784), (v) => 255 - v)),
    );
    expect(new Set(kept).size).toBeGreaterThan(2); // not a blank or constant image

    // click the guided setting: the scope takes its knobs (and the run's class and seed), then samples them
    await pt.click();
    const knobs = await page.evaluate(() => {
      const sc = document.querySelector('sample-scope')!;
      return { guidance: sc.guidance, steps: sc.steps, classLabel: sc.classLabel, seed: sc.seed, n: sc.n };
    });
    expect(knobs).toEqual({ guidance: 4, steps: 2, classLabel: '1', seed: 1, n: 2 });
    await page.waitForFunction(() => document.querySelector('sample-scope')!.state === 'ready', {
      timeout: 60_000,
      polling: 100,
    });
    await page.evaluate(() =>
      (
        document.querySelector('sample-scope')!.shadowRoot!.querySelector('[part="start"]') as HTMLButtonElement
      ).click(),
    );
    await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('sample-scope')!.state), {
      timeout: 60_000,
      polling: 200,
    });
    const sc = await page.evaluate(() => {
      const x = document.querySelector('sample-scope')!,
        sr = x.shadowRoot!;
      return {
        state: x.state,
        progress: (sr.querySelector('progress') as HTMLProgressElement).value,
        stats: sr.querySelector('.stats')!.textContent,
        alert: sr.querySelector('.error')?.textContent ?? '',
      };
    });
    expect(sc.alert).toBe('');
    expect([sc.state, sc.progress]).toEqual(['done', 100]);
    expect(sc.stats).toMatch(/^step 2 \/ 2 · NFE 4 /);
    await pt.hover();
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-pareto-run.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  }, 240_000);
});
