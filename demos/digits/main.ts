/**
 * Digits demo: guided DDIM on digits-diffusion with a guidance slider; the base → student hybrid is
 * offered only when a few-step student (models/digits-fewstep) is served next to the base model.
 */
import { autostartOnHardware, setupPage } from '../common/page.js';
import { servedModels } from '../../src/ui/engine-host.js';

const scopes = setupPage();
const scope = scopes[0];
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const slider = $<HTMLInputElement>('w'),
  out = $<HTMLOutputElement>('w-out');
const q = new URLSearchParams(location.search);
if (q.get('guidance') !== null) slider.value = q.get('guidance')!;
const syncGuidance = () => {
  out.value = slider.value;
  scope.guidance = Number(slider.value);
};
slider.addEventListener('input', syncGuidance);
syncGuidance();

const STUDENT = 'digits-fewstep';
const fieldset = $<HTMLFieldSetElement>('hybrid'),
  on = $<HTMLInputElement>('hybrid-on');
const baseSteps = $<HTMLInputElement>('base-steps'),
  studentSteps = $<HTMLInputElement>('student-steps');
const note = $('hybrid-note');
const syncHybrid = () => {
  scope.student = on.checked ? STUDENT : '';
  scope.baseSteps = Number(baseSteps.value);
  scope.studentSteps = Number(studentSteps.value);
};
for (const el of [on, baseSteps, studentSteps]) el.addEventListener('input', syncHybrid);
on.disabled = true; // a control in a fieldset's legend stays enabled with the fieldset: disable it explicitly
void (async () => {
  // models/index.json lists the served models (vite.config.ts writes it; no 404 probing)
  const listed = await servedModels(scope.modelsBase);
  if (listed.includes(STUDENT)) {
    fieldset.disabled = false;
    on.disabled = false;
    note.textContent = `The first base steps run digits-diffusion on its DDIM grid; from the timestep reached, the consistency-distilled student (${STUDENT}) finishes in a few steps.`;
  } else {
    note.textContent = `Unavailable: the few-step student (${STUDENT}) is still being trained and is not in models/ yet.`;
  }
})();

void autostartOnHardware(scopes, $<HTMLButtonElement>('run'), $('notice'));
