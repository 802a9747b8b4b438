/**
 * Knob values (registry names, src/knobs/registry.ts) → sampler options, where the two differ: the
 * image knobs guidanceLo/guidanceHi become `guidanceInterval`, baseSteps/studentSteps the `hybrid`
 * switch. Sweeps and the CLI both go through here, so a knob set means the same run everywhere.
 */
import { canonicalKnob, defaultOf } from './registry.js';

/**
 * Image knobs split into sampler options, the guidance interval and the hybrid switch (student given by the caller).
 */
export function imageKnobOptions(
  knobs: Record<string, unknown>,
  timesteps: number,
): {
  options: Record<string, unknown>;
  guidanceInterval?: [number, number];
  hybrid?: { baseSteps: number; studentSteps: number };
} {
  const named = Object.fromEntries(Object.entries(knobs).map(([k, v]) => [canonicalKnob(k), v]));
  const { baseSteps, studentSteps, guidanceLo, guidanceHi, ...options } = named;
  return {
    options,
    ...(guidanceLo !== undefined || guidanceHi !== undefined
      ? { guidanceInterval: [Number(guidanceLo ?? 0), Number(guidanceHi ?? timesteps - 1)] as [number, number] }
      : {}),
    ...(baseSteps !== undefined
      ? {
          hybrid: {
            baseSteps: Number(baseSteps),
            studentSteps: Number(studentSteps ?? defaultOf<number>('studentSteps')),
          },
        }
      : {}),
  };
}
