// The text demo pages of the built site (static server, strict CSP), in Chromium on WebGPU
// (SwiftShader), with tiny knobs from the URL. text-mdm: FHS and ancestral sampled side by side
// stream progress (partial fractions first), end at 100% with every position decided, FHS in exactly
// one pass per character and the 4-step ancestral grid in at most 4; Stop cancels a longer run.
// AS-ARM: sequential takes one pass per character, ASSD no more (NFE ≤ tokens), its rows carry the
// last round's draft marks, and the page compares the two NFE counts. No console errors or CSP
// violations. Screenshots: bench/results/screenshots/demo-text-mdm.png, demo-asarm.png.
import { describe, expect, it } from 'vitest';
import type { Page } from 'puppeteer-core';
import { join } from 'node:path';
import { openPage, SCREENSHOTS, useBuiltSite } from '../util/site.js';

const site = useBuiltSite();

interface ScopeView {
  state: string;
  rows: string[];
  masked: number;
  progress: number;
  footer: string;
  marks: string[];
}

/** Click the page's "Sample both" button and wait until every scope settles. */
async function runAll(page: Page): Promise<Record<string, ScopeView>> {
  await page.waitForFunction(() => [...document.querySelectorAll('sample-scope')].every((s) => s.state === 'ready'), {
    timeout: 180_000,
  });
  for (const b of await page.$$('.controls button[id^="run"]')) await b.click(); // every pair's "sample both"
  await page.waitForFunction(
    () => [...document.querySelectorAll('sample-scope')].every((s) => ['done', 'error', 'stopped'].includes(s.state)),
    { timeout: 240_000, polling: 200 },
  );
  return page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll('sample-scope')].map((s) => {
        const sr = s.shadowRoot!;
        return [
          s.id,
          {
            state: s.state,
            rows: [...sr.querySelectorAll('.row')].map((r) => r.textContent ?? ''),
            masked: sr.querySelectorAll('.row .m').length,
            progress: (sr.querySelector('progress') as HTMLProgressElement).value,
            footer: sr.querySelector('footer')?.textContent ?? '',
            marks: [
              ...new Set(
                [...sr.querySelectorAll('.row span')].map((x) => x.className).filter((c) => c.startsWith('d-')),
              ),
            ].sort(),
          },
        ];
      }),
    ),
  );
}

const events = (page: Page) => page.evaluate(() => window.__demo!.events);

describe('text demo pages (built site)', () => {
  it('text-mdm: FHS and ancestral side by side; Stop cancels', async () => {
    const { page, errors, csp } = await openPage(
      site.browser,
      `${site.url}demos/text-mdm/?length=16&n=1&steps=4&seed=2`,
    );
    const v = await runAll(page);
    for (const id of ['fhs', 'ancestral']) {
      expect(v[id].state, id).toBe('done');
      expect(
        v[id].rows.map((r) => r.length),
        id,
      ).toEqual([16]);
      expect(v[id].masked, id).toBe(0);
      expect(v[id].progress, id).toBe(100);
    }
    const ev = await events(page);
    const done = (id: string) =>
      ev.find((e) => e.type === 'sample-done' && e.id === id)!.detail as { nfe: number; texts: string[] };
    expect(done('fhs').nfe).toBe(16);
    expect(done('ancestral').nfe).toBeGreaterThanOrEqual(1);
    expect(done('ancestral').nfe).toBeLessThanOrEqual(4);
    expect(v.fhs.rows).toEqual(done('fhs').texts);
    expect(v.fhs.footer).toMatch(/^NFE 16 · [\d.]+ s · webgpu/);
    const fhsProgress = ev
      .filter((e) => e.type === 'sample-progress' && e.id === 'fhs')
      .map((e) => e.detail.fraction as number);
    expect(fhsProgress.length).toBe(16);
    expect(fhsProgress[0]).toBeCloseTo(1 / 16, 6);
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-text-mdm.png'), fullPage: true });

    // Stop: a 64-character FHS run cancelled after its first pass
    const stopped = await page.evaluate(async () => {
      const s = document.getElementById('fhs') as HTMLElementTagNameMap['sample-scope'];
      s.length = 64;
      await s.updateComplete;
      const run = s.start();
      await new Promise<void>((r) => s.addEventListener('sample-progress', () => r(), { once: true }));
      (s.shadowRoot!.querySelector('button[part=stop]') as HTMLButtonElement).click();
      const result = await run;
      await s.updateComplete;
      return { result: result ?? null, state: s.state, status: s.shadowRoot!.querySelector('.stats')!.textContent };
    });
    expect(stopped.result).toBeNull();
    expect(stopped.state).toBe('stopped');
    expect(stopped.status).toMatch(/stopped at step \d+/);
    const last = (await events(page)).at(-1)!;
    expect([last.type, last.id, last.detail.name]).toEqual(['sample-error', 'fhs', 'AbortError']);

    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  }, 300_000);

  it('AS-ARM: ASSD vs sequential, speculative vs sequential on the KV cache, with counters and draft marks', async () => {
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/asarm/?length=8&n=1&draft-k=3&seed=3`);
    const v = await runAll(page);
    for (const id of ['assd', 'sequential', 'speculative', 'ltr']) {
      expect(v[id].state, id).toBe('done');
      expect(
        v[id].rows.map((r) => r.length),
        id,
      ).toEqual([8]);
      expect(v[id].masked, id).toBe(0);
      expect(v[id].progress, id).toBe(100);
    }
    const ev = await events(page);
    const done = (id: string) =>
      ev.find((e) => e.type === 'sample-done' && e.id === id)!.detail as {
        nfe: number;
        proposed?: number;
        accepted?: number;
      };
    expect(done('sequential').nfe).toBe(8);
    expect(done('assd').nfe).toBeLessThanOrEqual(8);
    expect(done('assd').proposed).toBeGreaterThan(0);
    expect(v.assd.footer).toContain(`drafts accepted ${done('assd').accepted} / ${done('assd').proposed}`);
    expect(v.assd.marks).toContain('d-exact');
    expect(v.sequential.marks).toEqual([]);
    const compare = await page.$eval('#compare', (e) => e.textContent);
    expect(compare).toBe(
      `NFE: ASSD ${done('assd').nfe} vs sequential 8 — ${(8 / done('assd').nfe).toFixed(2)}× fewer passes`,
    );
    // left to right: the draft model proposes, the target verifies; the sequential partner decodes on its cache
    const spec = done('speculative') as { nfe: number; proposed?: number; accepted?: number; draftNfe?: number };
    expect(done('ltr').nfe).toBe(8);
    expect(spec.nfe).toBeLessThanOrEqual(8);
    expect(spec.draftNfe).toBeGreaterThan(0);
    expect(spec.proposed).toBeGreaterThan(0);
    expect(v.speculative.footer).toContain(`+ ${spec.draftNfe} draft passes`);
    expect(v.speculative.footer).toMatch(/tokens\/s/);
    expect(v.speculative.marks.length).toBeGreaterThan(0);
    expect(v.speculative.marks.every((m) => ['d-acc', 'd-rej', 'd-bonus', 'd-disc'].includes(m))).toBe(true);
    expect(await page.$eval('#compare-ltr', (e) => e.textContent)).toMatch(
      new RegExp(
        `^model passes: speculative ${spec.nfe} \\(\\+ ${spec.draftNfe} draft passes\\) vs sequential 8, \\d+% of drafts accepted — \\d+\\.\\d\\d× the tokens/s$`,
      ),
    );
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-asarm.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  }, 300_000);
});
