// The small image sweep the scheduler tests run on the CPU backend (test/cluster/slurm.test.ts,
// test/unit/k8s.test.ts): digits-diffusion with DDIM, 2 classes × 3 samples, PRDC with k = 2 —
// about 1–10 s a setting on one core, by the number of steps.
import type { KnobValue, SweepSpec } from '../../src/sweep/spec.js';

export function tinyDigitsSpec(name: string, grid: Record<string, KnobValue[]>): SweepSpec {
  return {
    name,
    kind: 'image',
    model: 'digits-diffusion',
    sampler: 'ddim',
    base: { eta: 0 },
    grid,
    classes: [0, 1],
    perClass: 3,
    seed: 1,
    classifier: 'digits-classifier',
    k: 2,
  };
}
