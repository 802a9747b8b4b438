/** Text MDM demo: FHS and ancestral side by side on text-mdm (same seed and class). */
import { autostartOnHardware, setupPage } from '../common/page.js';

const scopes = setupPage();
void autostartOnHardware(
  scopes,
  document.getElementById('run') as HTMLButtonElement,
  document.getElementById('notice')!,
);
