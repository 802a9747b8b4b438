/**
 * Main-thread side of the worker boundary: `createEngine()` starts the engine in a module worker
 * and returns a typed client.
 * - Progress callbacks cross as Comlink proxies; results' arrays are transferred.
 * - Cancellation: pass `{ signal }` (an AbortSignal) to a sampling call; aborting it cancels the
 *   request in the worker, which rejects with `AbortError` after the model call in flight.
 * - Crashes: if the worker dies (an uncaught error, or it is terminated), every pending call rejects
 *   at once with `WorkerCrashedError`; the next call starts a fresh worker (models must be loaded again).
 *   `dispose()` terminates the worker and rejects the calls still pending the same way.
 * - Trusted Types: the worker's script URL goes through the policy "samplescope" (same-origin only).
 */
import * as Comlink from 'comlink';
import { WorkerCrashedError } from '../errors.js';
import type { SweepRecord, SweepSpec } from '../metrics/sweep.js';
import { installErrorTransfer, type EngineApi, type ImageSampleRequest, type ImageSampleResult, type ProgressFn, type TextSampleRequest, type TextSampleResult } from './protocol.js';

export interface CallOptions {
  /** aborting it cancels the request (AbortError) */
  signal?: AbortSignal;
  /** request id (default: generated) */
  requestId?: string;
}

type Api = Omit<EngineApi, 'sampleText' | 'sampleImage' | 'sweep'>;

export interface Engine {
  init: Api['init'];
  info: Api['info'];
  backends: Api['backends'];
  matmul: Api['matmul'];
  sample: Api['sample'];
  loadModel: Api['loadModel'];
  listModels: Api['listModels'];
  loadInterpolated: Api['loadInterpolated'];
  unload: Api['unload'];
  score: Api['score'];
  classify: Api['classify'];
  classifyText: Api['classifyText'];
  nll: Api['nll'];
  evaluateText: Api['evaluateText'];
  evaluateImages: Api['evaluateImages'];
  /** run a sweep in the worker; each finished setting reaches onRecord; `{ signal }` cancels, `{ shard }` runs a part */
  sweep(spec: SweepSpec, onRecord?: (r: SweepRecord) => void, o?: CallOptions & { shard?: { index: number; count: number } }): ReturnType<EngineApi['sweep']>;
  cancel: Api['cancel'];
  interruptedRequests: Api['interruptedRequests'];
  resume(requestId: string, onProgress?: ProgressFn): ReturnType<EngineApi['resume']>;
  crashForTest: Api['crashForTest'];
  loseDeviceForTest: Api['loseDeviceForTest'];
  sampleText(req: TextSampleRequest, onProgress?: ProgressFn, o?: CallOptions): ReturnType<EngineApi['sampleText']>;
  sampleImage(req: ImageSampleRequest, onProgress?: ProgressFn, o?: CallOptions): ReturnType<EngineApi['sampleImage']>;
  /** how many workers this client has started (1 + restarts after crashes) */
  readonly workersStarted: number;
  /** terminate the worker */
  dispose(): void;
}

let ids = 0;

interface TrustedTypePolicyLike { createScriptURL(url: string): unknown }
let scriptUrlPolicy: TrustedTypePolicyLike | null | undefined;

/**
 * Trusted Types: a page with `require-trusted-types-for 'script'` accepts a worker's script URL only
 * through a policy. The policy "samplescope" passes same-origin URLs (the bundled worker) and
 * refuses every other; a page that restricts policy names lists it: `trusted-types lit-html samplescope`.
 */
function trustedScriptUrl(url: URL): URL | string {
  if (url.origin !== location.origin) throw new TypeError(`the engine worker must be same-origin, not ${url.origin}`);
  const tt = (globalThis as { trustedTypes?: { createPolicy(name: string, rules: { createScriptURL(u: string): string }): TrustedTypePolicyLike } }).trustedTypes;
  if (!tt) return url;
  scriptUrlPolicy ??= tt.createPolicy('samplescope', {
    createScriptURL: (u) => {
      if (new URL(u, location.href).origin !== location.origin) throw new TypeError(`samplescope: refusing cross-origin script URL ${u}`);
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
    const w = new Worker(new URL('./sampler.worker.ts', import.meta.url), { type: 'module', name: 'samplescope-engine' });
    w.addEventListener('error', (ev) => { ev.preventDefault(); if (worker === w) crash(ev.message || 'uncaught error in the worker'); });
    w.addEventListener('messageerror', () => { if (worker === w) crash('a message could not be deserialised'); });
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
      f(r).then(resolve, reject).finally(() => pending.delete(reject));
    });
  };

  const sampling = <Req>(method: 'sampleText' | 'sampleImage') => (req: Req, onProgress?: ProgressFn, o: CallOptions = {}) => {
    const requestId = o.requestId ?? `req-${++ids}`;
    const abort = () => { void remote?.cancel(requestId); };
    if (o.signal?.aborted) abort();
    o.signal?.addEventListener('abort', abort, { once: true });
    return call((r) => (r[method] as unknown as (q: Req, p?: ProgressFn, id?: string) => Promise<never>)(req, onProgress ? Comlink.proxy(onProgress) : undefined, requestId))
      .finally(() => o.signal?.removeEventListener('abort', abort));
  };

  const passthrough = <K extends keyof Api>(k: K) => ((...args: unknown[]) => call((r) => (r[k] as (...a: unknown[]) => Promise<unknown>)(...args))) as unknown as Api[K];

  return {
    init: passthrough('init'),
    info: passthrough('info'),
    backends: passthrough('backends'),
    matmul: passthrough('matmul'),
    sample: passthrough('sample'),
    loadModel: passthrough('loadModel'),
    listModels: passthrough('listModels'),
    loadInterpolated: passthrough('loadInterpolated'),
    unload: passthrough('unload'),
    score: passthrough('score'),
    classify: passthrough('classify'),
    classifyText: passthrough('classifyText'),
    nll: passthrough('nll'),
    evaluateText: passthrough('evaluateText'),
    evaluateImages: passthrough('evaluateImages'),
    sweep: (spec: SweepSpec, onRecord?: (r: SweepRecord) => void, o: CallOptions & { shard?: { index: number; count: number } } = {}) => {
      const requestId = o.requestId ?? `sweep-${++ids}`;
      const abort = () => { void remote?.cancel(requestId); };
      if (o.signal?.aborted) abort();
      o.signal?.addEventListener('abort', abort, { once: true });
      return call((r) => r.sweep(spec, { shard: o.shard }, onRecord ? Comlink.proxy(onRecord) : undefined, requestId))
        .finally(() => o.signal?.removeEventListener('abort', abort));
    },
    cancel: passthrough('cancel'),
    interruptedRequests: passthrough('interruptedRequests'),
    resume: (id: string, onProgress?: ProgressFn) => call((r) => r.resume(id, onProgress ? Comlink.proxy(onProgress) : undefined) as Promise<TextSampleResult | ImageSampleResult>),
    crashForTest: passthrough('crashForTest'),
    loseDeviceForTest: passthrough('loseDeviceForTest'),
    sampleText: sampling<TextSampleRequest>('sampleText'),
    sampleImage: sampling<ImageSampleRequest>('sampleImage'),
    get workersStarted() { return started; },
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
