/**
 * The module worker that owns the GPU device. Everything GPU-side runs here; the main thread talks to
 * it through `EngineApi` (src/worker/protocol.ts): the kernel-level calls below and the model-level
 * calls of the `Engine` (src/worker/engine.ts). Results' big arrays are transferred, not copied.
 */
import * as Comlink from 'comlink';
import { OpInputError } from '../errors.js';
import { Engine } from './engine.js';
import { installErrorTransfer, type EngineApi, type MatmulRequest, type SampleRequest } from './protocol.js';

installErrorTransfer();

const engine = new Engine();
const be = () => engine.be();

const api: EngineApi = {
  init: (prefer) => engine.init(prefer),
  info: () => engine.info(),
  backends: () => engine.backends(),
  async matmul({ a, b, M, K, N }: MatmulRequest) {
    if (a.length !== M * K || b.length !== K * N) throw new OpInputError('matmul', `a must hold M·K = ${M * K} and b K·N = ${K * N} values`);
    const b_ = await be();
    const t0 = performance.now();
    const ta = b_.tensor(a, [M, K]), tb = b_.tensor(b, [K, N]);
    const tc = b_.matmul(ta, tb);
    const c = (await b_.read(tc)) as Float32Array;
    const ms = performance.now() - t0;
    for (const t of [ta, tb, tc]) b_.free(t);
    return Comlink.transfer({ c, ms, backend: b_.name }, [c.buffer]);
  },
  async sample({ logits, rows, V, options }: SampleRequest) {
    const b_ = await be();
    const t = b_.tensor(logits, [rows, V]);
    const s = b_.categorical(t, options);
    try {
      const out = (await b_.read(s)) as Uint32Array;
      return Comlink.transfer(out, [out.buffer]);
    } finally {
      b_.free(t);
      b_.free(s);
    }
  },
  loadModel: (source, opts) => engine.loadModel(new URL(source, self.location.href).href, opts),
  listModels: async () => engine.listModels(),
  loadInterpolated: (a, b, lambda, opts) => engine.loadInterpolated(a, b, lambda, opts),
  unload: async (id) => engine.unload(id),
  async sampleText(req, onProgress, requestId) {
    const r = await engine.sampleText(req, onProgress, requestId);
    return Comlink.transfer(r, [r.samples.buffer]);
  },
  async sampleImage(req, onProgress, requestId) {
    const r = await engine.sampleImage(req, onProgress, requestId);
    return Comlink.transfer(r, [r.images.buffer]);
  },
  async score(model, tokens, batch, length, classId) {
    const r = await engine.score(model, tokens, batch, length, classId);
    return Comlink.transfer(r, [r.buffer]);
  },
  async classify(model, images, n) {
    const r = await engine.classify(model, images, n);
    return Comlink.transfer(r, [r.features.buffer, r.logits.buffer]);
  },
  async classifyText(model, tokens, batch) {
    const r = await engine.classifyText(model, tokens, batch);
    return Comlink.transfer(r, [r.features.buffer, r.logits.buffer]);
  },
  async resume(id, onProgress) {
    const r = await engine.resume(id, onProgress);
    return Comlink.transfer(r, ['images' in r ? r.images.buffer : r.samples.buffer]);
  },
  async nll(model, tokens, batch, length, classId) {
    const r = await engine.nll(model, tokens, batch, length, classId);
    return Comlink.transfer(r, [r.buffer]);
  },
  evaluateText: (tokens, n, requested, o) => engine.evaluateText(tokens, n, requested, o),
  evaluateImages: (images, n, requested, o) => engine.evaluateImages(images, n, requested, o),
  sweep: (spec, opts, onRecord, requestId) => engine.sweep(spec, opts, onRecord, requestId),
  interruptedRequests: async () => engine.interruptedRequests(),
  cancel: async (id) => engine.cancel(id),
  loseDeviceForTest: () => engine.loseDeviceForTest(),
  async crashForTest(ms) {
    setTimeout(() => { throw new Error('injected worker crash'); }, ms);
  },
};

Comlink.expose(api);
