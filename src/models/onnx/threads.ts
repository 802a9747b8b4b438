/**
 * How many threads onnxruntime-web's wasm EP (the fast CPU path) runs on, and why. WebAssembly threads
 * need SharedArrayBuffer: in a browser only a cross-origin-isolated page (served with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp`) and the
 * workers it starts have it; Node has it (onnxruntime-web runs its threads as worker threads). The
 * runtime reads the count once, when its wasm starts (the first ONNX session of a page, worker or
 * process), so the first plan is kept for every later load there.
 */
import { OpInputError } from '../../errors.js';

/** A thread count, or 'auto': as many as the machine has cores, up to AUTO_MAX, where threads are possible. */
export type OrtThreads = number | 'auto';

/** 'auto' stops here: past four threads the small models measured here gain little (memory-bound) */
export const AUTO_MAX = 4;

export interface OrtThreadPlan {
  threads: number;
  reason: string;
}

/** What decides the plan: whether this is Node, whether the page is cross-origin isolated, and the core count. */
export interface ThreadEnv {
  node: boolean;
  isolated: boolean;
  cores: number;
}

/** This runtime's ThreadEnv. */
export function threadEnv(): ThreadEnv {
  const g = globalThis as {
    process?: {
      versions?: { node?: string };
      getBuiltinModule?: (id: string) => { availableParallelism?: () => number } | undefined;
    };
    crossOriginIsolated?: boolean;
    navigator?: { hardwareConcurrency?: number };
  };
  const node = !!g.process?.versions?.node && typeof (g as { window?: unknown }).window === 'undefined';
  // Node 20 has no navigator; its os module (reached without an import, which a browser bundle would keep)
  const nodeCores = node ? g.process?.getBuiltinModule?.('node:os')?.availableParallelism?.() : undefined;
  const cores = Math.max(1, g.navigator?.hardwareConcurrency ?? nodeCores ?? 1);
  return { node, isolated: node || g.crossOriginIsolated === true, cores };
}

/** The plan for a request in an environment (pure; bad requests are OpInputError). */
export function planThreads(requested: OrtThreads, env: ThreadEnv): OrtThreadPlan {
  if (requested !== 'auto' && !(Number.isSafeInteger(requested) && requested >= 1))
    throw new OpInputError('threads', `threads must be a positive integer or 'auto', got ${JSON.stringify(requested)}`);
  const want = requested === 'auto' ? Math.min(AUTO_MAX, env.cores) : requested;
  if (want === 1)
    return {
      threads: 1,
      reason: requested === 'auto' ? 'one thread (one core here)' : 'one thread',
    };
  if (!env.isolated)
    return {
      threads: 1,
      reason:
        `one thread: ${want} were asked for, but this page is not cross-origin isolated, so WebAssembly threads are ` +
        'unavailable (serve it with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)',
    };
  const where = env.node ? 'worker threads' : 'cross-origin isolated';
  return {
    threads: want,
    reason: `${want} threads (${where}${requested === 'auto' ? `; ${env.cores} cores` : ''})`,
  };
}

let fixed: OrtThreadPlan | undefined;

/**
 * The plan the runtime runs on: the first call fixes it (onnxruntime-web reads the count once); a later call
 * asking for something else gets the fixed plan, its reason saying so.
 */
export function ortThreads(requested: OrtThreads = 1, env: ThreadEnv = threadEnv()): OrtThreadPlan {
  const plan = planThreads(requested, env);
  if (!fixed) return (fixed = plan);
  if (plan.threads === fixed.threads) return fixed;
  return {
    threads: fixed.threads,
    reason: `${fixed.reason} — fixed by the first ONNX load here (onnxruntime-web sets its thread count once); ${JSON.stringify(requested)} asked for now`,
  };
}
