/**
 * One engine worker per page and backend preference, shared by every element on the page: the
 * backend is acquired once, and each model (by resolved URL) is loaded once. A crashed worker
 * (WorkerCrashedError) forgets both, so the next call starts a fresh worker and loads again.
 * Nothing here touches the GPU: the worker does (`ui/` never imports `gpu/`).
 */
import { createEngine, type Engine } from '../worker/client.js';
import {
  checkOrigin,
  type BackendInfo,
  type BackendPreference,
  type ModelInfo,
  type ModelPath,
} from '../worker/protocol.js';

interface Host {
  engine: Engine;
  init?: Promise<BackendInfo>;
  models: Map<string, Promise<ModelInfo>>;
}

const hosts = new Map<BackendPreference, Host>();

function host(prefer: BackendPreference): Host {
  let h = hosts.get(prefer);
  if (!h) {
    h = { engine: createEngine(), models: new Map() };
    hosts.set(prefer, h);
  }
  return h;
}

/** Forget what a crashed worker held (the client starts a new worker on the next call). */
function forgetCrashed(h: Host, e: unknown): void {
  if ((e as Error)?.name === 'WorkerCrashedError') {
    h.init = undefined;
    h.models.clear();
  }
}

function onFailure(h: Host, e: unknown): never {
  forgetCrashed(h, e);
  throw e;
}

/** The page's engine for this backend preference, its backend acquired. */
export async function engineFor(prefer: BackendPreference): Promise<{ engine: Engine; backend: BackendInfo }> {
  const h = host(prefer);
  const init = (h.init ??= h.engine.init(prefer));
  try {
    return { engine: h.engine, backend: await init };
  } catch (e) {
    if (h.init === init) h.init = undefined;
    return onFailure(h, e);
  }
}

/**
 * Load a model once per engine; its handle is the model folder's URL. `allowedOrigins` extends the
 * origins it may come from (default: the page's own): checked here, so a model another element loaded
 * is not handed to one whose list refuses it, and again in the worker before anything is fetched.
 */
export async function modelFor(prefer: BackendPreference, url: string, allowedOrigins?: string[]): Promise<ModelInfo> {
  checkOrigin(url, { allowedOrigins });
  const { engine, backend } = await engineFor(prefer);
  const h = host(prefer);
  let p = h.models.get(url);
  if (!p) {
    // a model with an ONNX form: on the CPU backend it runs that form on onnxruntime-web's wasm EP (the fast CPU
    // path; the twins if it does not load), on a software WebGPU adapter the faster of the two measured at load
    // (info.path says which and why); on a hardware GPU our kernels. The wasm EP takes as many threads as the
    // page allows: several where it is cross-origin isolated (the demo server's headers), else one, saying so
    const path: ModelPath = backend.name === 'cpu' || backend.adapter?.software ? 'auto' : 'native';
    const opts = { id: url, path, threads: 'auto' as const };
    p = engine.loadModel(url, allowedOrigins ? { ...opts, allowedOrigins } : opts);
    h.models.set(url, p);
  }
  try {
    return await p;
  } catch (e) {
    if (h.models.get(url) === p) h.models.delete(url);
    return onFailure(h, e);
  }
}

let dropped = 0;

/**
 * Load a model from files the user dropped or picked (Blobs by path, manifest.json among them): they
 * go to the worker, never over the network, and are checked exactly as a URL's files (manifest rules,
 * sizes, sha256, the tokenizer's special tokens). Each load gets a fresh handle — a URL under the page,
 * `dropped/<n>/`, which a <sample-scope model=…> then finds loaded — so a load that fails leaves the
 * model loaded before it untouched.
 */
export async function modelFromFiles(
  prefer: BackendPreference,
  files: ReadonlyMap<string, Blob>,
): Promise<{ url: string; info: ModelInfo }> {
  const { engine } = await engineFor(prefer);
  const h = host(prefer);
  const url = resolveModelUrl(`dropped/${++dropped}/`, document.baseURI);
  const p = engine.loadModel(url, { id: url, files });
  try {
    const info = await p;
    h.models.set(url, p);
    return { url, info };
  } catch (e) {
    return onFailure(h, e);
  }
}

/** Unload a model this host loaded (its handle is its URL); the next modelFor of it loads it again. */
export async function unloadModel(prefer: BackendPreference, url: string): Promise<void> {
  const h = host(prefer);
  if (!h.models.delete(url)) return;
  await h.engine.unload(url).catch(() => undefined);
}

/** Call after a request failed (the caller shows the error): drops cached state if the worker crashed. */
export function forget(prefer: BackendPreference, e: unknown): void {
  forgetCrashed(host(prefer), e);
}

/**
 * The folder URL of a model: a name ("text-mdm") is looked up under `base` (default "/models/");
 * anything with a "/" is a URL of the model folder or of its manifest.json, relative to the page.
 */
export function resolveModelUrl(model: string, base = '/models/'): string {
  const page = typeof document !== 'undefined' ? document.baseURI : 'http://localhost/';
  const m = model.trim();
  if (!m.includes('/')) return new URL(`${encodeURIComponent(m)}/`, new URL(base.replace(/\/?$/, '/'), page)).href;
  const u = new URL(m, page);
  u.pathname = u.pathname.replace(/manifest\.json$/, '').replace(/\/?$/, '/');
  return u.href;
}

/**
 * The model names served under `base`: its index.json (`{"models": [...]}`, which the dev server
 * answers and the site build writes); none when there is no index.
 */
export async function servedModels(base = '/models/'): Promise<string[]> {
  const page = typeof document !== 'undefined' ? document.baseURI : 'http://localhost/';
  const res = await fetch(new URL('index.json', new URL(base.replace(/\/?$/, '/'), page))).catch(() => null);
  return res?.ok ? ((((await res.json()) as { models?: string[] }).models ?? []) as string[]) : [];
}

/** Acquire the backend and load a MaM model (one with a marginal head) for a scoring element. */
export async function loadMam(
  prefer: BackendPreference,
  model: string,
  base: string,
  what: string,
  allowedOrigins: string[] = [],
): Promise<{ backend: BackendInfo; info: ModelInfo }> {
  const { backend } = await engineFor(prefer);
  const url = resolveModelUrl(model, base);
  const info = await modelFor(prefer, url, allowedOrigins.length ? [...allowedOrigins] : undefined);
  if (info.kind !== 'text' || !info.hasMarginalHead || !info.maxLength)
    throw new TypeError(`model "${info.name}" has no marginal head: ${what} needs a MaM model`);
  return { backend, info };
}

/**
 * The `allowed-origins` attribute of the elements: origins models may be loaded from besides the
 * page's own, space-separated (`allowed-origins="https://cdn.example.org"`), set by the embedding
 * page. A model URL of any other origin is refused before it is fetched (OriginNotAllowedError).
 */
export const allowedOriginsAttribute = {
  attribute: 'allowed-origins',
  converter: {
    fromAttribute: (v: string | null) => (v ?? '').split(/\s+/).filter(Boolean),
    toAttribute: (v: string[]) => v.join(' '),
  },
};

/** An error as shown and dispatched by the elements. */
export function errorDetail(e: unknown): { name: string; code?: string; message: string } {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, code: (err as { code?: string }).code, message: err.message };
}
