/**
 * Main-thread side of the worker boundary: `createEngine()` starts the engine in a module worker
 * and returns a typed client.
 * - Every call of `EngineApi` (src/worker/protocol.ts), built from its table `ENGINE_METHODS`:
 *   callbacks cross as Comlink proxies; results' arrays are transferred.
 * - Cancellation: pass `{ signal }` (an AbortSignal) to a sampling call or a sweep; aborting it
 *   cancels the request in the worker, which rejects with `AbortError` after the model call in flight.
 * - Crashes: if the worker dies (an uncaught error, or it is terminated), every pending call rejects
 *   at once with `WorkerCrashedError`; the next call starts a fresh worker (models must be loaded again).
 *   `dispose()` terminates the worker and rejects the calls still pending the same way.
 * - Trusted Types: the worker's script URL goes through the policy "samplescope" (same-origin only).
 */
import * as Comlink from 'comlink';
import { WorkerCrashedError } from '../errors.js';
import {
  ENGINE_METHODS,
  installErrorTransfer,
  type EngineApi,
  type EngineCalls,
  type RequestOptions,
} from './protocol.js';

/** The main thread's engine: every call of `EngineApi` (each a Promise), and the worker's lifetime. */
export interface Engine extends EngineCalls {
  /** how many workers this client has started (1 + restarts after crashes) */
  readonly workersStarted: number;
  /** terminate the worker */
  dispose(): void;
}

let ids = 0;

interface TrustedTypePolicyLike {
  createScriptURL(url: string): unknown;
}
let scriptUrlPolicy: TrustedTypePolicyLike | null | undefined;

/**
 * Trusted Types: a page with `require-trusted-types-for 'script'` accepts a worker's script URL only
 * through a policy. The policy "samplescope" passes same-origin URLs (the bundled worker) and
 * refuses every other; a page that restricts policy names lists it: `trusted-types lit-html samplescope`.
 */
function trustedScriptUrl(url: URL): URL | string {
  if (url.origin !== location.origin) throw new TypeError(`the engine worker must be same-origin, not ${url.origin}`);
  const tt = (
    globalThis as {
      trustedTypes?: {
        createPolicy(name: string, rules: { createScriptURL(u: string): string }): TrustedTypePolicyLike;
      };
    }
  ).trustedTypes;
  if (!tt) return url;
  scriptUrlPolicy ??= tt.createPolicy('samplescope', {
    createScriptURL: (u) => {
      if (new URL(u, location.href).origin !== location.origin)
        throw new TypeError(`samplescope: refusing cross-origin script URL ${u}`);
      return u;
    },
  });
  return scriptUrlPolicy.createScriptURL(url.href) as string;
}

/**
 * The page's Worker, its script URL passed through the Trusted Types policy above. Named `Worker`
 * on purpose: bundlers find the worker entry by the `new Worker(new URL(…, import.meta.url))` form.
 */
const Worker = function (url: URL, options?: WorkerOptions): globalThis.Worker {
  return new globalThis.Worker(trustedScriptUrl(url) as URL, options);
} as unknown as new (url: URL, options?: WorkerOptions) => globalThis.Worker;

/** Start the engine in a module worker and return its typed client. */
export function createEngine(): Engine {
  installErrorTransfer();
  let worker: Worker | null = null;
  let remote: Comlink.Remote<EngineApi> | null = null;
  let started = 0;
  const pending = new Set<(e: Error) => void>();

  const crash = (reason: string) => {
    const err = new WorkerCrashedError(reason);
    for (const reject of [...pending]) reject(err);
    pending.clear();
    worker?.terminate();
    worker = null;
    remote = null;
  };

  const ensure = (): Comlink.Remote<EngineApi> => {
    if (remote) return remote;
    const w = new Worker(new URL('./sampler.worker.ts', import.meta.url), {
      type: 'module',
      name: 'samplescope-engine',
    });
    w.addEventListener('error', (ev) => {
      ev.preventDefault();
      if (worker === w) crash(ev.message || 'uncaught error in the worker');
    });
    w.addEventListener('messageerror', () => {
      if (worker === w) crash('a message could not be deserialised');
    });
    worker = w;
    started++;
    remote = Comlink.wrap<EngineApi>(w);
    return remote;
  };

  /** Run a remote call; reject with WorkerCrashedError if the worker dies first. */
  const call = <T>(f: (r: Comlink.Remote<EngineApi>) => Promise<T>): Promise<T> => {
    const r = ensure();
    return new Promise<T>((resolve, reject) => {
      pending.add(reject);
      f(r)
        .then(resolve, reject)
        .finally(() => pending.delete(reject));
    });
  };

  /** One call of the table: callbacks proxied, a request's signal kept here and turned into cancel(requestId). */
  const method = (name: keyof EngineApi) => {
    const spec = ENGINE_METHODS[name];
    return (...args: unknown[]) => {
      for (const i of spec.callbacks ?? [])
        if (typeof args[i] === 'function') args[i] = Comlink.proxy(args[i] as () => void);
      let signal: AbortSignal | undefined,
        requestId = '';
      if (spec.request !== undefined) {
        const { signal: s, ...rest } = (args[spec.request] ?? {}) as RequestOptions;
        signal = s;
        requestId = rest.requestId ?? `${name}-${++ids}`;
        args[spec.request] = { ...rest, requestId };
      }
      const abort = () => {
        void remote?.cancel(requestId);
      };
      const p = call((r) => (r[name] as (...a: unknown[]) => Promise<unknown>)(...args));
      // after the call is posted: the worker handles messages in order, so the request is known when cancel arrives
      if (signal?.aborted) abort();
      signal?.addEventListener('abort', abort, { once: true });
      return signal ? p.finally(() => signal.removeEventListener('abort', abort)) : p;
    };
  };

  const calls = Object.fromEntries(
    Object.keys(ENGINE_METHODS).map((k) => [k, method(k as keyof EngineApi)]),
  ) as unknown as EngineCalls;

  return {
    ...calls,
    get workersStarted() {
      return started;
    },
    dispose() {
      // calls still pending would otherwise never settle: they reject like any other worker death
      const err = new WorkerCrashedError('the engine was disposed');
      for (const reject of [...pending]) reject(err);
      pending.clear();
      remote?.[Comlink.releaseProxy]();
      worker?.terminate();
      worker = null;
      remote = null;
    },
  };
}
