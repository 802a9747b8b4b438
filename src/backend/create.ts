/** Choose and build a backend; the caller always learns which one it got (`backend.info`). */
import { acquireDevice, type AcquireOptions } from '../gpu/device.js';
import { GpuRuntime } from '../gpu/runtime.js';
import type { Backend } from './backend.js';
import { CpuBackend } from './cpu.js';
import { WebGPUBackend } from './webgpu.js';

export interface CreateBackendOptions extends AcquireOptions {
  /**
   * 'webgpu': WebGPU or a typed error; 'cpu': the reference twins; 'auto' (default): WebGPU when
   * available, else cpu with `info.fallbackReason` set.
   */
  prefer?: 'webgpu' | 'cpu' | 'auto';
}

export async function createBackend(opts: CreateBackendOptions = {}): Promise<Backend> {
  const prefer = opts.prefer ?? 'auto';
  if (prefer === 'cpu') return new CpuBackend();
  try {
    const ctx = await acquireDevice(opts);
    return new WebGPUBackend(new GpuRuntime(ctx));
  } catch (e) {
    if (prefer === 'webgpu') throw e;
    return new CpuBackend(`WebGPU unavailable: ${(e as Error).message}`);
  }
}
