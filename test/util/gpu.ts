/**
 * Shared setup for GPU tests: one WebGPU backend per test file, on a real adapter or a loud failure
 * (never a silent skip). The adapter is printed once so CI logs show what ran the kernels.
 */
import { createBackend } from '../../src/backend/create.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import type { Backend } from '../../src/backend/backend.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';

let gpu: Promise<WebGPUBackend> | undefined;

export function gpuBackend(): Promise<WebGPUBackend> {
  gpu ??= createBackend({ prefer: 'webgpu' }).then((be) => {
    if (be.name !== 'webgpu') throw new Error('expected the webgpu backend');
    const a = be.info.adapter!;
    console.log(
      `[gpu] adapter: ${a.description || a.device} (vendor ${a.vendor}, ${a.architecture}${a.software ? ', software' : ''})`,
    );
    return be as WebGPUBackend;
  });
  return gpu;
}

export const cpu: Backend = new CpuBackend();

/**
 * True in scripts/test.sh's second pass (the GPU tests again on SwiftShader's Vulkan ICD): tests whose subject
 * does not depend on the driver (host-side limits, another runtime's output) run once, on the first pass.
 */
export const SECOND_DRIVER = process.env.SAMPLESCOPE_SECOND_DRIVER === '1';

/** Deterministic data (mulberry32), so a failing fast-check case can be replayed. */
export function rand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomF32(n: number, seed: number, scale = 1): Float32Array {
  const r = rand(seed);
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = (r() * 2 - 1) * scale;
  return a;
}

/** The fraction of positions where two token arrays of one length agree (two paths' samples for one seed). */
export function sameFraction(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`sameFraction: lengths ${a.length} and ${b.length}`);
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;
  return same / a.length;
}

/**
 * Assert |got − want| ≤ atol + rtol·|want| elementwise (NaN must match NaN); reports the worst index.
 */
/** |got − want| ≤ atol + rtol·|want| elementwise; `atol` may be one value per element (spec-derived bounds). */
export function expectClose(
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number | ArrayLike<number>,
  rtol: number,
  what = '',
): void {
  if (got.length !== want.length) throw new Error(`${what}: length ${got.length} vs ${want.length}`);
  let worst = -1,
    worstExcess = 0;
  for (let i = 0; i < got.length; i++) {
    const g = got[i],
      w = want[i];
    if (Number.isNaN(w) || Number.isNaN(g)) {
      if (Number.isNaN(w) !== Number.isNaN(g)) throw new Error(`${what}: index ${i}: got ${g}, want ${w}`);
      continue;
    }
    if (g === w) continue; // covers matching infinities
    const excess = Math.abs(g - w) - ((typeof atol === 'number' ? atol : atol[i]) + rtol * Math.abs(w));
    if (!(excess <= 0) && (worst < 0 || excess > worstExcess)) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const a = typeof atol === 'number' ? atol : atol[worst];
    throw new Error(
      `${what}: index ${worst}: got ${got[worst]}, want ${want[worst]} (|diff| ${Math.abs(got[worst] - want[worst])} > ${a} + ${rtol}·|want|)`,
    );
  }
}
