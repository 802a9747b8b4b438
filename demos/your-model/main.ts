/** "Your model" page: drop a model folder or paste a URL (src/ui/your-model.ts), sample it with <sample-scope>. */
import '../../src/ui/your-model.js';
import { setupPage } from '../common/page.js';

setupPage();
for (const type of ['model-loaded', 'model-error'])
  document.addEventListener(type, (ev) =>
    window.__demo!.events.push({ type, id: 'yours', detail: (ev as CustomEvent).detail as Record<string, unknown> }),
  );
// ?backend=cpu|webgpu and ?src=<model folder URL> (shareable links, tests)
const q = new URLSearchParams(location.search);
const el = document.getElementById('yours')!;
if (q.get('backend')) el.setAttribute('backend', q.get('backend')!);
if (q.get('src')) el.setAttribute('src', q.get('src')!);
