/**
 * Where the engine keeps the auto path's decisions (ModelPath 'auto' on WebGPU: our kernels or the model's
 * ONNX form on the wasm EP, whichever measured faster), so a page reload or a second CLI run on the same
 * adapter does not measure again. A decision is keyed by the adapter it was measured on and the model (name
 * and weights digest: another model, or new weights under the same name, is measured afresh), so a decision
 * made on another adapter is never used. Stores: in memory (the default), IndexedDB (the browser worker: it
 * outlives the page), a JSON file (the CLI, src/cli/decision-file.ts). A store that cannot be
 * read or written (private browsing, a read-only home) costs a measurement, never a load: errors are swallowed
 * here, and the engine measures as if nothing were stored.
 */

export interface PathDecision {
  used: 'native' | 'onnx-wasm';
  reason: string;
}

export interface DecisionStore {
  /** where decisions live, for messages */
  readonly where: string;
  get(key: string): Promise<PathDecision | undefined>;
  set(key: string, d: PathDecision): Promise<void>;
}

/** The key of a decision: the adapter, the model's name and its weights' digest. */
export function decisionKey(adapter: string, model: string, digest: string): string {
  return `${adapter}|${model}|${digest}`;
}

export function isDecision(v: unknown): v is PathDecision {
  const d = v as PathDecision;
  return (
    typeof v === 'object' &&
    v !== null &&
    (d.used === 'native' || d.used === 'onnx-wasm') &&
    typeof d.reason === 'string'
  );
}

export function memoryStore(): DecisionStore {
  const m = new Map<string, PathDecision>();
  return {
    where: 'memory (this engine)',
    get: async (k) => m.get(k),
    set: async (k, d) => void m.set(k, d),
  };
}

/** IndexedDB (database samplescope, object store path-decisions), where the runtime has it. */
export function indexedDbStore(name = 'samplescope'): DecisionStore {
  const STORE = 'path-decisions';
  const idb = (globalThis as { indexedDB?: IDBFactory }).indexedDB;
  let db: Promise<IDBDatabase | undefined> | undefined;
  const open = () =>
    (db ??= new Promise<IDBDatabase | undefined>((res) => {
      if (!idb) return res(undefined);
      try {
        const r = idb.open(name, 1);
        r.onupgradeneeded = () => r.result.createObjectStore(STORE);
        r.onsuccess = () => res(r.result);
        r.onerror = () => res(undefined);
      } catch {
        res(undefined);
      }
    }));
  const request = async <T>(mode: IDBTransactionMode, f: (s: IDBObjectStore) => IDBRequest): Promise<T | undefined> => {
    const d = await open();
    if (!d) return undefined;
    return new Promise((res) => {
      try {
        const r = f(d.transaction(STORE, mode).objectStore(STORE));
        r.onsuccess = () => res(r.result as T);
        r.onerror = () => res(undefined);
      } catch {
        res(undefined);
      }
    });
  };
  return {
    where: `IndexedDB ${name}/${STORE}`,
    get: async (k) => {
      const v = await request<unknown>('readonly', (s) => s.get(k));
      return isDecision(v) ? v : undefined;
    },
    set: async (k, d) => void (await request('readwrite', (s) => s.put({ used: d.used, reason: d.reason }, k))),
  };
}
