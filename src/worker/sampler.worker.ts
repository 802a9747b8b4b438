/**
 * The module worker that owns the GPU device. Everything GPU-side runs here; the main thread talks to
 * it through `EngineApi` (src/worker/protocol.ts).
 */
import * as Comlink from 'comlink';
import { createBackend } from '../backend/create.js';
import type { Backend } from '../backend/backend.js';
import { OpInputError } from '../errors.js';
import { installErrorTransfer, type BackendPreference, type EngineApi, type MatmulRequest, type SampleRequest } from './protocol.js';

installErrorTransfer();

let backend: Promise<Backend> | null = null;

function getBackend(prefer: BackendPreference = 'auto'): Promise<Backend> {
  backend ??= createBackend({ prefer });
  return backend;
}

const api: EngineApi = {
  async init(prefer) {
    return (await getBackend(prefer)).info;
  },
  async info() {
    return (await getBackend()).info;
  },
  async matmul({ a, b, M, K, N }: MatmulRequest) {
    if (a.length !== M * K || b.length !== K * N) throw new OpInputError('matmul', `a must hold M·K = ${M * K} and b K·N = ${K * N} values`);
    const be = await getBackend();
    const t0 = performance.now();
    const ta = be.tensor(a, [M, K]), tb = be.tensor(b, [K, N]);
    const tc = be.matmul(ta, tb);
    const c = (await be.read(tc)) as Float32Array;
    const ms = performance.now() - t0;
    for (const t of [ta, tb, tc]) be.free(t);
    return Comlink.transfer({ c, ms, backend: be.name }, [c.buffer]);
  },
  async sample({ logits, rows, V, options }: SampleRequest) {
    const be = await getBackend();
    const t = be.tensor(logits, [rows, V]);
    const s = be.categorical(t, options);
    try {
      const out = (await be.read(s)) as Uint32Array;
      return Comlink.transfer(out, [out.buffer]);
    } finally {
      be.free(t);
      be.free(s);
    }
  },
};

Comlink.expose(api);
