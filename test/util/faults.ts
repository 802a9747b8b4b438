/**
 * Fault injection and soak runs on an `Engine` (Node + Dawn), shared by test/gpu/hardening.test.ts
 * (reduced counts, in `npm test`) and scripts/soak.ts (full counts). Each returns its figures so the
 * callers can assert on them and print them.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { DeviceLostError } from '../../src/errors.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import type { Engine } from '../../src/worker/engine.js';
import type { TextSampleRequest, TextSampleResult } from '../../src/worker/protocol.js';
import { rand } from './gpu.js';

/** A full garbage collection (exposes V8's gc when node was not started with --expose-gc). */
export function gc(): void {
  let f = (globalThis as { gc?: () => void }).gc;
  if (!f) {
    setFlagsFromString('--expose-gc');
    f = runInNewContext('gc') as () => void;
  }
  f();
  f();
}

/** Run a request to the end, resuming it on a new device as often as the device is lost under it. */
export async function runToEnd(e: Engine, req: TextSampleRequest, id: string): Promise<TextSampleResult> {
  try {
    return await e.sampleText(req, undefined, { requestId: id });
  } catch (err) {
    if (!(err instanceof DeviceLostError)) throw err;
    for (;;) {
      try {
        return (await e.resume(id)) as TextSampleResult;
      } catch (again) {
        if (!(again instanceof DeviceLostError)) throw again;
      }
    }
  }
}

export interface LossTrial {
  trial: number;
  sampler: 'fhs' | 'ancestral';
  seed: number;
  batch: number;
  length: number;
  steps: number;
  /** step whose progress callback destroyed the device */
  killAt: number;
  /** 'lost': rejected with DeviceLostError and resumed; 'finished': the request had read its last result */
  outcome: 'lost' | 'finished';
  /** the resumed (or finished) samples and texts equal the uninterrupted run's */
  equal: boolean;
  /** steps the resumed request ran (continued after the last completed step, not restarted) */
  resumedSteps?: number;
  completedBeforeLoss?: number;
  /**
   * model calls [uninterrupted, resumed]: equal for FHS; ancestral on a time grid reuses logits across
   * steps that reveal nothing, and those logits are not in the checkpoint, so a resume may recompute
   * them once (+1)
   */
  nfe?: [number, number];
  error?: string;
}

/**
 * `trials` device losses at random steps (mulberry32 from `seed`): per trial a random sampler (FHS or
 * ancestral), seed, batch (1–4) and length (4–`maxLength`); the uninterrupted run first, then the
 * same request with the device destroyed in the progress callback of a uniformly drawn step;
 * a DeviceLostError is resumed (`engine.resume`) and the result must equal the uninterrupted one.
 */
/** NFE of a resumed trial as expected: equal (FHS), or at most one recomputation more (ancestral's reused logits). */
export function nfeOk(t: LossTrial): boolean {
  if (!t.nfe) return true;
  const [full, resumed] = t.nfe;
  return t.sampler === 'fhs' ? resumed === full : resumed >= full && resumed <= full + 1;
}

export async function deviceLossTrials(
  e: Engine,
  opts: { model: string; trials: number; seed: number; maxLength: number; classes: number },
): Promise<LossTrial[]> {
  const r = rand(opts.seed);
  const pick = (n: number) => Math.floor(r() * n);
  const out: LossTrial[] = [];
  for (let t = 0; t < opts.trials; t++) {
    const sampler = r() < 0.5 ? 'fhs' : 'ancestral';
    const length = 4 + pick(opts.maxLength - 3);
    const batch = 1 + pick(4);
    const seed = 1 + pick(1_000_000);
    const options: TextSampleRequest['options'] = { batch, length, seed };
    if (r() < 0.5) options.classId = pick(opts.classes);
    if (sampler === 'ancestral') options.steps = 2 + pick(8);
    const req: TextSampleRequest = { model: opts.model, sampler, options };
    const full = await runToEnd(e, req, `full-${opts.seed}-${t}`);
    const steps = full.stepTimesMs.length;
    const killAt = pick(steps);
    const id = `lost-${opts.seed}-${t}`;
    const trial: LossTrial = { trial: t, sampler, seed, batch, length, steps, killAt, outcome: 'lost', equal: false };
    let last = -1;
    try {
      const done = await e.sampleText(
        req,
        (p) => {
          last = p.step;
          if (p.step === killAt) void e.loseDeviceForTest();
        },
        { requestId: id },
      );
      trial.outcome = 'finished';
      trial.equal = sameSamples(done, full);
    } catch (err) {
      if (!(err instanceof DeviceLostError)) {
        trial.error = `${(err as Error).name}: ${(err as Error).message}`;
        out.push(trial);
        continue;
      }
      trial.completedBeforeLoss = last + 1;
      const res = (await e.resume(id)) as TextSampleResult;
      trial.resumedSteps = res.stepTimesMs.length;
      trial.equal = sameSamples(res, full);
      trial.nfe = [full.nfe, res.nfe];
    }
    out.push(trial);
  }
  return out;
}

function sameSamples(a: TextSampleResult, b: TextSampleResult): boolean {
  return (
    a.samples.length === b.samples.length &&
    a.samples.every((v, i) => v === b.samples[i]) &&
    a.texts.join('\n') === b.texts.join('\n')
  );
}

export interface SoakFigures {
  calls: number;
  ms: number;
  /** buffers created through the pool / by the runtime, and the pool's counts, before and after */
  before: { created: number; live: number; pooled: number; runtimeBuffers: number; heapUsed: number };
  after: { created: number; live: number; pooled: number; runtimeBuffers: number; heapUsed: number };
  /** heapUsed after / before − 1 */
  heapChange: number;
  /** every call's samples equal the first call's of the same seed (calls cycle through `seeds` seeds) */
  mismatches: number;
}

/**
 * `calls` sequential sampleText calls on one engine after `warmup` calls (cycling through `seeds`
 * seeds and FHS / ancestral): pool and runtime buffer counts and the JS heap (after a full GC) before
 * and after.
 */
export async function soak(
  e: Engine,
  opts: { model: string; calls: number; warmup: number; length: number; batch: number; seeds?: number },
): Promise<SoakFigures> {
  const seeds = opts.seeds ?? 8;
  const req = (i: number): TextSampleRequest => ({
    model: opts.model,
    sampler: i % 2 ? 'ancestral' : 'fhs',
    options: { batch: opts.batch, length: opts.length, seed: 1 + (i % seeds), ...(i % 2 ? { steps: 4 } : {}) },
  });
  const first = new Map<number, string>();
  const be = (await e.be()) as WebGPUBackend;
  let mismatches = 0;
  const call = async (i: number) => {
    const r = await e.sampleText(req(i));
    const key = i % (2 * seeds);
    const s = r.texts.join('\n');
    if (!first.has(key)) first.set(key, s);
    else if (first.get(key) !== s) mismatches++;
  };
  for (let i = 0; i < opts.warmup; i++) await call(i);
  const snap = () => {
    gc();
    const p = be.stats();
    return {
      created: p.pool.created,
      live: p.pool.live,
      pooled: p.pool.pooled,
      runtimeBuffers: p.buffersCreated,
      heapUsed: process.memoryUsage().heapUsed,
    };
  };
  const before = snap();
  const t0 = performance.now();
  for (let i = 0; i < opts.calls; i++) await call(opts.warmup + i);
  const ms = performance.now() - t0;
  const after = snap();
  return { calls: opts.calls, ms, before, after, heapChange: after.heapUsed / before.heapUsed - 1, mismatches };
}

/**
 * `n` sampleText calls started together on one engine (seeds 1..n, alternating FHS / ancestral),
 * each compared with the same request run alone; returns the indices whose result differs and
 * whether the requests' steps interleaved.
 */
export async function concurrentVsSingle(
  e: Engine,
  opts: { model: string; n: number; length: number; batch: number },
): Promise<{ differing: number[]; interleaved: boolean }> {
  // batches 1..batch and lengths length−3..length: pooled buffers of several sizes change hands
  const req = (i: number): TextSampleRequest => ({
    model: opts.model,
    sampler: i % 2 ? 'ancestral' : 'fhs',
    options: {
      batch: 1 + (i % opts.batch),
      length: opts.length - (i % 4),
      seed: 1 + i,
      classId: i % 2,
      ...(i % 2 ? { steps: 5 } : {}),
    },
  });
  const single: string[] = [];
  for (let i = 0; i < opts.n; i++) single.push(Array.from((await e.sampleText(req(i))).samples).join(','));
  // the order in which the requests' steps ran: a queue runs each request's steps contiguously
  const order: number[] = [];
  const together = await Promise.all(
    Array.from({ length: opts.n }, async (_, i) =>
      Array.from((await e.sampleText(req(i), () => order.push(i))).samples).join(','),
    ),
  );
  const runs = order.filter((v, k) => k === 0 || order[k - 1] !== v).length;
  return { differing: together.flatMap((s, i) => (s === single[i] ? [] : [i])), interleaved: runs > opts.n };
}
