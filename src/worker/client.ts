/** Main-thread side of the worker boundary: a typed Comlink proxy to the engine worker. */
import * as Comlink from 'comlink';
import { installErrorTransfer, type EngineApi } from './protocol.js';

export type Engine = Comlink.Remote<EngineApi> & {
  /** terminate the worker */
  dispose(): void;
};

/** Start the engine in a module worker and return its typed proxy. */
export function createEngine(): Engine {
  installErrorTransfer();
  const worker = new Worker(new URL('./sampler.worker.ts', import.meta.url), { type: 'module', name: 'samplescope-engine' });
  const remote = Comlink.wrap<EngineApi>(worker) as Engine;
  return new Proxy(remote, {
    get(target, prop, receiver) {
      if (prop === 'dispose') return () => { target[Comlink.releaseProxy](); worker.terminate(); };
      return Reflect.get(target, prop, receiver);
    },
  }) as Engine;
}
