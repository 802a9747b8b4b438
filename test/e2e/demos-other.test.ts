// The other demo pages of the built site (static server, strict CSP), in Chromium on WebGPU
// (SwiftShader). Landing page: links to every demo, each of which answers 200, the kernel demo
// included. MaM: the text scorer shows log p per class and changes when the text changes (typed
// markup stays text: no element is created from it); the Ising grid's exact log p of the all-+
// configuration equals β·180 − log Z and the MaM's one-pass value lies within 0.2 nats per spin of it;
// an <ising-grid> refuses a model of another origin unless its allowed-origins lists that origin,
// and then loads it.
// Digits: a 2-image, 4-step guided DDIM run draws ink on the canvas, ends at 100% and 4 / 4 steps;
// the hybrid control is enabled only when models/digits-fewstep exists, and then a 2 + 2-step
// base → student run finishes. No console errors or CSP
// violations. Screenshots: bench/results/screenshots/demo-home.png, demo-mam.png, demo-digits.png.
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isingExactLogp } from '../../src/ui/ising-grid.js';
import { claimRows, parseReport, type SettingLine } from '../../bench/replication/report.js';
import { openPage, ROOT, SCREENSHOTS, useBuiltSite } from '../util/site.js';

const site = useBuiltSite();

describe('other demo pages (built site)', () => {
  it('landing page links every demo', async () => {
    const { page, errors, csp } = await openPage(site.browser, site.url);
    const links = await page.$$eval('.cards a', (as) => as.map((a) => new URL((a as HTMLAnchorElement).href).pathname));
    expect(links).toEqual([
      '/demos/text-mdm/',
      '/demos/asarm/',
      '/demos/mam/',
      '/demos/digits/',
      '/demos/pareto/',
      '/demos/replication/',
      '/demos/your-model/',
      '/demos/kernel/',
    ]);
    // every page's navigation is the one list vite.config.ts puts in, the page itself marked
    const nav = await page.$$eval('nav.demos a', (as) =>
      as.map((a) => [a.getAttribute('href'), a.getAttribute('aria-current')]),
    );
    expect(nav.map(([h]) => h)).toEqual(['/', ...links]);
    expect(nav.filter(([, c]) => c === 'page').map(([h]) => h)).toEqual(['/']);
    // every page answers and carries the one CSP (vite.config.ts puts it in; without it no violation could show);
    // only the page that runs onnxruntime-web may compile WebAssembly
    for (const l of ['/', ...links]) {
      const res = await fetch(new URL(l, site.url));
      expect(res.status, l).toBe(200);
      const wasm = l === '/demos/your-model/' ? " 'wasm-unsafe-eval'" : '';
      expect(await res.text(), l).toMatch(
        new RegExp(
          `<meta http-equiv="Content-Security-Policy" content="default-src 'self'; script-src 'self'${wasm}; [^"]*require-trusted-types-for 'script'`,
        ),
      );
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-home.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  it('replication report: the committed lines as the claims table and plots with intervals', async () => {
    const lines = parseReport(readFileSync(join(ROOT, 'bench/replication/results.jsonl'), 'utf8'));
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/replication/`);
    await page.waitForSelector('#report[data-state="done"], #report[data-state="error"]', { timeout: 60_000 });
    expect(await page.$eval('#report', (m) => (m as HTMLElement).dataset.state)).toBe('done');
    const rows = await page.$$eval('#claims-table tbody tr', (trs) =>
      trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent!.trim())),
    );
    expect(rows).toEqual(claimRows(lines));
    expect(rows.length).toBeGreaterThan(0);
    // each plot has a point per setting of its section that it names, placed by its statistics
    const settings = lines.filter((l): l is SettingLine => l.type === 'setting');
    const plotted = await page.$$eval('svg.plot', (svgs) =>
      svgs.map((s) => ({
        plot: (s as SVGSVGElement).dataset.plot!,
        ids: [...s.querySelectorAll<SVGGElement>('g.pt')].map((g) => g.dataset.id!),
      })),
    );
    const digits = plotted.find((p) => p.plot === 'digits');
    const want = settings.filter((s) => s.section === 'digits').map((s) => s.id);
    expect(new Set(digits?.ids)).toEqual(new Set(want));
    const mdm = plotted.find((p) => p.plot === 'mdm');
    expect(new Set(mdm?.ids)).toEqual(new Set(settings.filter((s) => s.section === 'mdm').map((s) => s.id)));
    expect(await page.$$eval('#settings-table tbody tr', (t) => t.length)).toBe(settings.length);
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-replication.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  });

  it('MaM: live log-likelihood of partial text and of Ising configurations', async () => {
    const { page, errors, csp } = await openPage(
      site.browser,
      `${site.url}demos/mam/?length=32&text=${encodeURIComponent('Call me Ishmael. Some ye?rs ago')}`,
    );
    const scores = () =>
      page.evaluate(() =>
        [...document.querySelector('mam-scorer')!.shadowRoot!.querySelectorAll('tbody tr')].map((tr) =>
          [...tr.children].map((c) => c.textContent),
        ),
      );
    await page.waitForFunction(() => document.querySelector('mam-scorer')!.state === 'done', {
      timeout: 180_000,
      polling: 200,
    });
    const first = await scores();
    expect(first.map((r) => r[0])).toEqual(['moby', 'jargon', 'unconditional']);
    for (const r of first) expect(Number(r[1])).toBeLessThan(0);
    // type new text (with markup in it): the scores change, the markup stays text
    await page.evaluate(() => {
      const ta = document.querySelector('mam-scorer')!.shadowRoot!.querySelector('textarea')!;
      ta.value = '<b>the ?ha?e</b> and sea';
      ta.dispatchEvent(new Event('input'));
    });
    await page.waitForFunction(
      (before) => {
        const s = document.querySelector('mam-scorer')!;
        const now = [...s.shadowRoot!.querySelectorAll('tbody tr td:nth-child(2)')].map((c) => c.textContent).join();
        return s.state === 'done' && now !== before;
      },
      { timeout: 180_000, polling: 200 },
      first.map((r) => r[1]).join(),
    );
    const second = await scores();
    expect(second.map((r) => r[1])).not.toEqual(first.map((r) => r[1]));
    expect(
      await page.evaluate(() => document.querySelector('mam-scorer')!.shadowRoot!.querySelectorAll('b').length),
    ).toBe(0);
    // an <img onerror> payload (scored, or refused for a character outside the vocabulary) stays text too
    const xss = await page.evaluate(async () => {
      const s = document.querySelector('mam-scorer')!;
      const ta = s.shadowRoot!.querySelector('textarea')!;
      ta.value = '<img src=x onerror=__xss=1>';
      ta.dispatchEvent(new Event('input'));
      await new Promise((r) => setTimeout(r, 300));
      for (let i = 0; i < 1800 && !['done', 'error'].includes(s.state); i++)
        await new Promise((r) => setTimeout(r, 100));
      await new Promise((r) => setTimeout(r, 500));
      return {
        state: s.state,
        imgs: s.shadowRoot!.querySelectorAll('img').length,
        value: ta.value,
        ran: (window as unknown as { __xss?: number }).__xss,
      };
    });
    expect(xss).toEqual({
      state: expect.stringMatching(/^(done|error)$/),
      imgs: 0,
      value: '<img src=x onerror=__xss=1>',
      ran: undefined,
    });
    // nothing observed: no number, a sentence saying so
    const nothingObserved = await page.evaluate(async () => {
      const s = document.querySelector('mam-scorer')!;
      const ta = s.shadowRoot!.querySelector('textarea')!;
      ta.value = '????????';
      ta.dispatchEvent(new Event('input'));
      for (let i = 0; i < 1800 && !s.shadowRoot!.querySelector('#nothing'); i++)
        await new Promise((r) => setTimeout(r, 100));
      return {
        rows: s.shadowRoot!.querySelectorAll('tbody tr').length,
        text: s.shadowRoot!.querySelector('#nothing')?.textContent,
      };
    });
    expect(nothingObserved).toEqual({ rows: 0, text: expect.stringContaining('Nothing observed') });
    // back to text: the scores come with the model's measured calibration error
    await page.evaluate(() => {
      const ta = document.querySelector('mam-scorer')!.shadowRoot!.querySelector('textarea')!;
      ta.value = 'Call me Ishmael.';
      ta.dispatchEvent(new Event('input'));
    });
    await page.waitForFunction(
      () => {
        const s = document.querySelector('mam-scorer')!;
        return s.state === 'done' && s.shadowRoot!.querySelectorAll('tbody tr').length === 3;
      },
      { timeout: 180_000, polling: 200 },
    );
    const note = await page.evaluate(
      () => document.querySelector('mam-scorer')!.shadowRoot!.querySelector('#calibration')?.textContent ?? '',
    );
    expect(note.replace(/\s+/g, ' ')).toMatch(
      /on 400 held-out snippets, this one-pass log p differs from text-asarm's exact likelihood by ±\d\.\d\d nats per observed character/,
    );

    // Ising: the all-+ configuration
    await page.waitForFunction(() => document.querySelector('ising-grid')!.state === 'done', {
      timeout: 180_000,
      polling: 200,
    });
    await page.evaluate(() => {
      const g = document.querySelector('ising-grid')!;
      (
        [...g.shadowRoot!.querySelectorAll('.tools button')].find((b) => b.textContent === 'all +') as HTMLButtonElement
      ).click();
    });
    await page.waitForFunction(
      () => {
        const g = document.querySelector('ising-grid')!;
        return g.state === 'done' && g.shadowRoot!.querySelectorAll('.grid .s1').length === 100;
      },
      { timeout: 180_000, polling: 200 },
    );
    await page.waitForFunction(() => document.querySelector('ising-grid')!.state === 'done', {
      timeout: 180_000,
      polling: 200,
    });
    const ising = await page.evaluate(() => {
      const sr = document.querySelector('ising-grid')!.shadowRoot!;
      return {
        mam: parseFloat(sr.querySelector('.logp')!.textContent!),
        exact: parseFloat(sr.querySelector('.exact')!.textContent!),
      };
    });
    const m = JSON.parse(readFileSync(join(ROOT, 'models/ising-mam/manifest.json'), 'utf8')).ising as {
      L: number;
      beta: number;
      log_z: number;
    };
    const want = isingExactLogp(new Array(m.L * m.L).fill(1), m.L, m.beta, m.log_z);
    expect(want).toBeCloseTo(m.beta * 2 * m.L * (m.L - 1) - m.log_z, 9);
    expect(ising.exact).toBeCloseTo(want, 3);
    expect(Math.abs(ising.mam - ising.exact)).toBeLessThan(0.2 * m.L * m.L);
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-mam.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);

    // allowed-origins on <ising-grid> (as on <sample-scope>): a model of another origin (localhost vs
    // 127.0.0.1) is refused before it is fetched unless the attribute lists that origin
    const other = `http://localhost:${new URL(site.url).port}`;
    const origins = await page.evaluate(async (other) => {
      const make = async (attrs: Record<string, string>) => {
        const el = document.createElement('ising-grid');
        for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
        document.body.append(el);
        for (let i = 0; i < 1800 && (el.state === 'loading' || el.state === 'scoring'); i++)
          await new Promise((r) => setTimeout(r, 100));
        const r = { state: el.state, alert: el.shadowRoot!.querySelector('.error')?.textContent ?? '' };
        el.remove();
        return r;
      };
      return [
        await make({ model: `${other}/models/ising-mam/` }),
        await make({ model: `${other}/models/ising-mam/`, 'allowed-origins': `https://cdn.example ${other}` }),
      ];
    }, other);
    expect(origins[0].state).toBe('error');
    expect(origins[0].alert).toContain('OriginNotAllowedError');
    // listed, it passes the check and loads (L, β, log Z come from the worker: the element does no
    // fetch of its own, so this page's CSP, connect-src 'self', does not stand in the way)
    expect(origins[1]).toEqual({ state: 'done', alert: '' });
    await page.close();
  }, 300_000);

  it('digits: guided DDIM draws on the canvas; hybrid only with a student model', async () => {
    const { page, errors, csp } = await openPage(site.browser, `${site.url}demos/digits/?n=2&steps=4&guidance=2`);
    await page.waitForFunction(() => document.querySelector('sample-scope')!.state === 'ready', {
      timeout: 180_000,
      polling: 200,
    });
    const ink = () =>
      page.evaluate(() => {
        const c = document.querySelector('sample-scope')!.shadowRoot!.querySelector('canvas')!;
        const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
        let dark = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] === 255 && d[i] < 128) dark++;
        return { w: c.width, h: c.height, dark };
      });
    expect((await ink()).dark).toBe(0);
    await page.click('#run');
    await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('sample-scope')!.state), {
      timeout: 240_000,
      polling: 200,
    });
    const v = await page.evaluate(() => {
      const s = document.querySelector('sample-scope')!,
        sr = s.shadowRoot!;
      return {
        state: s.state,
        guidance: s.guidance,
        progress: (sr.querySelector('progress') as HTMLProgressElement).value,
        stats: sr.querySelector('.stats')!.textContent,
        footer: sr.querySelector('footer')?.textContent ?? '',
        alert: sr.querySelector('.error')?.textContent ?? '',
      };
    });
    expect(v.alert).toBe('');
    expect(v.state).toBe('done');
    expect(v.guidance).toBe(2);
    expect(v.progress).toBe(100);
    expect(v.stats).toMatch(/^step 4 \/ 4 · NFE 8 /);
    expect(v.footer).toMatch(/^NFE 8 · [\d.]+ s · webgpu/);
    const after = await ink();
    expect([after.w, after.h]).toEqual([2 * 28 + 2, 28]);
    expect(after.dark).toBeGreaterThan(20);
    const ev = await page.evaluate(() =>
      window.__demo!.events.filter((e) => e.type === 'sample-progress').map((e) => e.detail.step),
    );
    expect(ev).toEqual([0, 1, 2, 3]);

    const hybrid = await page.evaluate(() => ({
      disabled: (document.getElementById('hybrid') as HTMLFieldSetElement).disabled,
      note: document.getElementById('hybrid-note')!.textContent,
    }));
    if (existsSync(join(ROOT, 'models/digits-fewstep/manifest.json'))) {
      expect(hybrid.disabled).toBe(false);
      // base → student: 2 DDIM steps of the base, then 2 consistency steps of the student
      await page.evaluate(() => {
        const set = (id: string, v: string) => {
          const el = document.getElementById(id) as HTMLInputElement;
          if (el.type === 'checkbox') el.checked = true;
          else el.value = v;
          el.dispatchEvent(new Event('input'));
        };
        set('hybrid-on', '');
        set('base-steps', '2');
        set('student-steps', '2');
      });
      await page.click('#run');
      await page.waitForFunction(() => ['done', 'error'].includes(document.querySelector('sample-scope')!.state), {
        timeout: 240_000,
        polling: 200,
      });
      const h = await page.evaluate(() => {
        const s = document.querySelector('sample-scope')!,
          sr = s.shadowRoot!;
        return {
          state: s.state,
          student: s.student,
          progress: (sr.querySelector('progress') as HTMLProgressElement).value,
          stats: sr.querySelector('.stats')!.textContent,
          alert: sr.querySelector('.error')?.textContent ?? '',
        };
      });
      expect(h.alert).toBe('');
      expect([h.state, h.student, h.progress]).toEqual(['done', 'digits-fewstep', 100]);
      expect(h.stats).toMatch(/^step 4 \/ 4 · /);
      expect((await ink()).dark).toBeGreaterThan(20);
    } else {
      expect(hybrid).toEqual({ disabled: true, note: expect.stringContaining('still being trained') });
      expect(await page.$eval('#hybrid-on', (e) => (e as HTMLInputElement).disabled)).toBe(true);
    }
    await page.screenshot({ path: join(SCREENSHOTS, 'demo-digits.png'), fullPage: true });
    expect(await csp()).toEqual([]);
    expect(errors, errors.join('\n')).toEqual([]);
    await page.close();
  }, 300_000);
});
