/**
 * Helpers shared by the benches (Node and the browser page): command-line flags, statistics,
 * validation against a reference, deterministic inputs, GPU memory accounting and file naming.
 * Nothing here imports Node modules, so the Chromium page can use it through Vite.
 */
import { rngRef } from '../src/reference/rng.js';

/** The value after `--name` in argv, or `dflt`. */
export function arg(name: string, dflt: string, argv: readonly string[] = process.argv): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : dflt;
}

export interface Stats {
  median: number;
  /** interquartile range (q75 − q25, nearest-rank) */
  iqr: number;
  runs: number;
}

/** Median and IQR (nearest-rank quantiles) of the timed runs. */
export function stats(xs: readonly number[]): Stats {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { median: q(0.5), iqr: q(0.75) - q(0.25), runs: s.length };
}

/** `runs` timed calls of `fn(i)` (after the caller's warm-up): their median and IQR, and the last call's result. */
export async function timeRuns<T>(runs: number, fn: (i: number) => Promise<T>): Promise<{ ms: Stats; last: T }> {
  const ts: number[] = [];
  let last: T | undefined;
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    last = await fn(i);
    ts.push(performance.now() - t0);
  }
  return { ms: stats(ts), last: last as T };
}

export const median = (xs: readonly number[]): number => stats(xs).median;
export const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** A failed check before timing: the bench exits non-zero instead of reporting a number. */
export class BenchValidationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchValidationError';
  }
}

/**
 * Elementwise |got − want| ≤ atol + rtol·|want| (NaN fails); returns the largest |Δ| or throws
 * BenchValidationError naming the first index outside the tolerance.
 */
export function assertClose(
  what: string,
  got: ArrayLike<number>,
  want: ArrayLike<number>,
  atol: number,
  rtol: number,
): number {
  if (got.length !== want.length)
    throw new BenchValidationError(`${what}: ${got.length} values, reference has ${want.length}`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    const d = Math.abs(got[i] - want[i]);
    if (!(d <= atol + rtol * Math.abs(want[i]))) {
      throw new BenchValidationError(
        `${what}: value [${i}] = ${got[i]}, reference ${want[i]} (tolerance ${atol} + ${rtol}·|ref|)`,
      );
    }
    worst = Math.max(worst, d);
  }
  return worst;
}

/** n deterministic uniforms in [−1, 1) (Philox stream `stream`). */
export function uniformData(n: number, stream: number): Float32Array {
  const u = rngRef({ count: Math.ceil(n / 2), key: [1, 0], stream: [stream, 0, 0], output: 'uniform' }) as Float32Array;
  return Float32Array.from(u.subarray(0, n), (v) => v * 2 - 1);
}

/** A filesystem-safe lower-case slug. */
export function slug(s: string, max = 40): string {
  return (
    s
      .replace(/[^a-z0-9]+/gi, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase()
      .slice(0, max) || 'unknown'
  );
}

export interface GpuMemory {
  /** bytes of GPU buffers alive now / at most, per device, in creation order of the devices */
  devices(): { live: number; peak: number }[];
  /** the peak of one device (0 when it made no buffer) */
  peakOf(device: GPUDevice): number;
}

/**
 * Count the bytes of every GPUBuffer made through `createBuffer` on these devices (or on every device,
 * given GPUDevice.prototype) minus those destroyed: live and peak bytes per device. Buffers dropped
 * without destroy() stay counted, which is what a pool that keeps its buffers does anyway.
 */
export function trackGpuMemory(target: { createBuffer(d: GPUBufferDescriptor): GPUBuffer }): GpuMemory {
  const per = new Map<object, { live: number; peak: number }>();
  const orig = target.createBuffer;
  target.createBuffer = function (this: GPUDevice, d: GPUBufferDescriptor): GPUBuffer {
    const buf = orig.call(this, d);
    let e = per.get(this);
    if (!e) per.set(this, (e = { live: 0, peak: 0 }));
    const entry = e;
    entry.live += d.size;
    entry.peak = Math.max(entry.peak, entry.live);
    const destroy = buf.destroy;
    let gone = false;
    buf.destroy = function (this: GPUBuffer) {
      if (!gone) {
        gone = true;
        entry.live -= d.size;
      }
      return destroy.call(this);
    };
    return buf;
  };
  return {
    devices: () => [...per.values()].map((e) => ({ ...e })),
    peakOf: (device) => per.get(device)?.peak ?? 0,
  };
}

/** `--shard i/n` → [i, n] with 0 ≤ i < n; throws a message naming the flag otherwise. */
export function parseShard(s: string): [number, number] {
  const m = /^(\d+)\/(\d+)$/.exec(s);
  const i = m ? Number(m[1]) : NaN,
    n = m ? Number(m[2]) : NaN;
  if (!(n >= 1 && i >= 0 && i < n)) throw new Error(`--shard must be i/n with 0 ≤ i < n, got '${s}'`);
  return [i, n];
}
