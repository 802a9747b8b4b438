/** AS-ARM demo: ASSD and sequential side by side on text-asarm, with their pass counts compared. */
import { autostartOnHardware, setupPage } from '../common/page.js';
import type { SampleDoneDetail } from '../../src/ui/sample-scope.js';

const scopes = setupPage();
const compare = document.getElementById('compare')!;
const nfe = new Map<string, number>();
for (const s of scopes) {
  s.addEventListener('sample-start', () => {
    nfe.delete(s.id);
    compare.textContent = '';
  });
  s.addEventListener('sample-done', (ev) => {
    nfe.set(s.id, (ev as CustomEvent<SampleDoneDetail>).detail.nfe);
    const a = nfe.get('assd'),
      q = nfe.get('sequential');
    if (a !== undefined && q !== undefined)
      compare.textContent = `NFE: ASSD ${a} vs sequential ${q} — ${(q / a).toFixed(2)}× fewer passes`;
  });
}
void autostartOnHardware(
  scopes,
  document.getElementById('run') as HTMLButtonElement,
  document.getElementById('notice')!,
);
