/** Deterministic demo inputs from the Philox stream, so tests can rebuild them exactly. */
import { rngRef } from '../../src/reference/rng.js';

/** n values in [-1, 1) for a given seed. */
export function demoMatrix(n: number, seed: number, stream: number): Float32Array {
  const u = rngRef({
    count: Math.ceil(n / 2),
    key: [seed >>> 0, 0],
    stream: [stream, 0, 0],
    output: 'uniform',
  }) as Float32Array;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.fround(u[i] * 2 - 1);
  return out;
}

export const DEMO_LOGITS = Float32Array.from([1.6, 1.1, 0.7, 0.2, -0.3, -0.9, -1.8, -3.0]);
export const DEMO_SIZE = 128;
export const DEMO_DRAWS = 20000;
