/**
 * The module worker that owns the GPU device: it exposes an `Engine` (src/worker/engine.ts) through
 * Comlink, one entry per row of `ENGINE_METHODS` (src/worker/protocol.ts), each result's big arrays
 * transferred, not copied.
 */
import * as Comlink from 'comlink';
import { Engine } from './engine.js';
import { indexedDbStore } from './path-decisions.js';
import { ENGINE_METHODS, installErrorTransfer, type EngineApi } from './protocol.js';

installErrorTransfer();

// auto path decisions outlive the page: a reload on the same adapter does not measure again
const engine = new Engine({ decisions: indexedDbStore() });

/** Each call of the table, calling the engine and transferring its result's buffers. */
function expose(target: EngineApi): Record<string, (...args: unknown[]) => Promise<unknown>> {
  const api: Record<string, (...args: unknown[]) => Promise<unknown>> = {};
  for (const [name, spec] of Object.entries(ENGINE_METHODS)) {
    const method = target[name as keyof EngineApi] as (...args: unknown[]) => unknown;
    const transfer = spec.transfer as ((r: unknown) => Transferable[]) | undefined;
    api[name] = async (...args) => {
      const r = await method.apply(target, args);
      return transfer ? Comlink.transfer(r, transfer(r)) : r;
    };
  }
  return api;
}

Comlink.expose(expose(engine));
