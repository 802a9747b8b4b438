/**
 * AS-ARM demo, two pairs on text-asarm: ASSD vs sequential (any order), and left-to-right speculative
 * decoding with the distilled draft vs sequential on the KV cache — passes and tokens/s compared.
 */
import { autostartOnHardware, setupPage } from '../common/page.js';
import type { SampleScope, SampleDoneDetail } from '../../src/ui/sample-scope.js';

const scopes = setupPage();
const byId = (id: string) => scopes.find((s) => s.id === id)!;

/** Compare a speculative scope with its sequential partner once both are done. */
function pair(
  fast: SampleScope,
  slow: SampleScope,
  out: HTMLElement,
  what: (a: SampleDoneDetail, q: SampleDoneDetail) => string,
) {
  const done = new Map<string, SampleDoneDetail>();
  for (const s of [fast, slow]) {
    s.addEventListener('sample-start', () => {
      done.delete(s.id);
      out.textContent = '';
    });
    s.addEventListener('sample-done', (ev) => {
      done.set(s.id, (ev as CustomEvent<SampleDoneDetail>).detail);
      const a = done.get(fast.id),
        q = done.get(slow.id);
      if (a && q) out.textContent = what(a, q);
    });
  }
}

pair(
  byId('assd'),
  byId('sequential'),
  document.getElementById('compare')!,
  (a, q) => `NFE: ASSD ${a.nfe} vs sequential ${q.nfe} — ${(q.nfe / a.nfe).toFixed(2)}× fewer passes`,
);
pair(byId('speculative'), byId('ltr'), document.getElementById('compare-ltr')!, (a, q) => {
  const acc = a.proposed ? `, ${Math.round((100 * a.accepted!) / a.proposed)}% of drafts accepted` : '';
  const rate = a.tokensPerS && q.tokensPerS ? ` — ${(a.tokensPerS / q.tokensPerS).toFixed(2)}× the tokens/s` : '';
  return `model passes: speculative ${a.nfe} (+ ${a.draftNfe ?? 0} draft passes) vs sequential ${q.nfe}${acc}${rate}`;
});

const notice = document.getElementById('notice')!;
void autostartOnHardware(
  [byId('assd'), byId('sequential')],
  document.getElementById('run') as HTMLButtonElement,
  notice,
);
void autostartOnHardware(
  [byId('speculative'), byId('ltr')],
  document.getElementById('run-ltr') as HTMLButtonElement,
  notice,
);
