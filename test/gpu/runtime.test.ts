// The GPU runtime's contracts: typed errors (compile, limits, validation, device loss, no adapter),
// one pipeline per specialisation, pooled buffers with no allocation in a steady-state sampling step,
// one submit per step, and the optional timestamp profiler.
import { describe, expect, it } from 'vitest';
import { gpuBackend, randomF32 } from '../util/gpu.js';
import { createBackend } from '../../src/backend/create.js';
import { GpuTensor, WebGPUBackend } from '../../src/backend/webgpu.js';
import { acquireDevice } from '../../src/gpu/device.js';
import { GpuRuntime } from '../../src/gpu/runtime.js';
import {
  DeviceLostError,
  GpuValidationError,
  LimitExceededError,
  ShaderCompileError,
  WebGPUUnavailableError,
} from '../../src/errors.js';

async function freshBackend(): Promise<WebGPUBackend> {
  return new WebGPUBackend(new GpuRuntime(await acquireDevice()));
}

describe('gpu runtime', () => {
  it('reports the adapter it runs on', async () => {
    const gpu = await gpuBackend();
    expect(gpu.info.name).toBe('webgpu');
    expect(gpu.info.adapter!.description.length + gpu.info.adapter!.device.length).toBeGreaterThan(0);
  });

  it('bad WGSL is a ShaderCompileError carrying the compiler message and line', async () => {
    const gpu = await gpuBackend();
    const err = await gpu.runtime.pipelines
      .getPipelineAsync({ kernel: 'broken', source: '@compute @workgroup_size(1) fn broken() { let x: u32 = 1.5; }' })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ShaderCompileError);
    expect(err.kernel).toBe('broken');
    expect(err.messages.length).toBeGreaterThan(0);
    expect(err.messages[0].line).toBe(1);
  });

  it('needs beyond the adapter are LimitExceededError before anything is allocated', async () => {
    await expect(acquireDevice({ requiredLimits: { maxBufferSize: 2 ** 52 } })).rejects.toThrow(LimitExceededError);
    const gpu = await gpuBackend();
    const before = gpu.stats().buffersCreated;
    // the binding bound is whichever of the two limits is smaller on this adapter (lavapipe: the
    // binding size; SwiftShader's Vulkan driver: maxBufferSize)
    const { maxBufferSize, maxStorageBufferBindingSize } = gpu.runtime.device.limits;
    const binding = Math.min(maxBufferSize, maxStorageBufferBindingSize);
    expect(gpu.runtime.limits.storageBinding).toEqual({
      bytes: binding,
      limit: maxStorageBufferBindingSize <= maxBufferSize ? 'maxStorageBufferBindingSize' : 'maxBufferSize',
    });
    expect(gpu.maxTensor).toEqual(gpu.runtime.limits.storageBinding);
    const tooBig = binding / 4 + 1;
    const err = (() => {
      try {
        gpu.empty([tooBig]);
      } catch (e) {
        return e;
      }
    })() as LimitExceededError;
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.limit).toBe(gpu.runtime.limits.storageBinding.limit);
    expect(err.available).toBe(binding);
    expect(gpu.stats().buffersCreated).toBe(before);
  });

  it('one pipeline per kernel + constants', async () => {
    const gpu = await gpuBackend();
    const c = gpu.runtime.pipelines;
    const p1 = c.getPipeline({ kernel: 'softmax', constants: { WG: 64, LOG: false } });
    const p2 = c.getPipeline({ kernel: 'softmax', constants: { LOG: false, WG: 64 } });
    const p3 = c.getPipeline({ kernel: 'softmax', constants: { WG: 64, LOG: true } });
    expect(p1).toBe(p2);
    expect(p3).not.toBe(p1);
    await c.check();
  });

  it('a steady-state sampling step allocates no buffers and submits once', async () => {
    const gpu = await gpuBackend();
    const rows = 8,
      C = 32,
      V = 50;
    const x = gpu.tensor(randomF32(rows * C, 1), [rows, C]);
    const w = gpu.tensor(randomF32(V * C, 2), [V, C]);
    const h = gpu.empty([rows, C]);
    const logits = gpu.empty([rows, V]);
    const tokens = gpu.empty([rows], 'u32');
    const g = gpu.tensor(new Float32Array(C).fill(1), [C]);
    const b = gpu.tensor(new Float32Array(C), [C]);
    const step = async (i: number) => {
      gpu.layerNorm(x, g, b, { out: h });
      gpu.matmul(h, w, { transB: true, out: logits });
      gpu.categorical(logits, { seed: 5, counter: i, out: tokens });
      return gpu.read(tokens);
    };
    await step(0); // warm-up: pipelines, staging, uniform arena
    const queue = gpu.runtime.device.queue;
    const submit = queue.submit.bind(queue);
    let submits = 0;
    queue.submit = (cmds: Iterable<GPUCommandBuffer>) => {
      submits++;
      return submit(cmds);
    };
    const before = gpu.stats().buffersCreated;
    for (let i = 1; i <= 10; i++) {
      const t = await step(i);
      expect(t.every((v) => v < V)).toBe(true);
    }
    queue.submit = submit;
    expect(gpu.stats().buffersCreated - before).toBe(0);
    expect(submits).toBe(10);
  });

  it('freed tensors return to the pool and are reused', async () => {
    const gpu = await gpuBackend();
    const t = gpu.empty([1000]);
    gpu.free(t);
    const before = gpu.stats().buffersCreated;
    const u = gpu.empty([900]); // same 4 KiB bucket
    expect(gpu.stats().buffersCreated).toBe(before);
    await expect(gpu.read(t)).rejects.toThrow(/freed/);
    gpu.free(u);
  });

  it('a validation error in submitted work is a GpuValidationError, not a result', async () => {
    const gpu = await gpuBackend();
    const out = gpu.empty([4]);
    // binding 1 of elementwise must be read-only storage; give it too few bindings
    gpu.runtime.dispatch({
      kernel: 'elementwise',
      label: 'test:bad',
      constants: { WG: 64, OP: 2 },
      params: new Uint32Array([4, 1, 0, 1]),
      bindings: [(out as GpuTensor).buffer],
      grid: [1],
    });
    await expect(gpu.flush()).rejects.toThrow(GpuValidationError);
  });

  it('device loss: pending and later work fail with DeviceLostError, never with zeros', async () => {
    const gpu = await freshBackend();
    const a = gpu.tensor(randomF32(64, 1), [8, 8]);
    const c = gpu.matmul(a, a);
    const pending = gpu.read(c);
    gpu.runtime.device.destroy();
    await expect(pending).rejects.toThrow(DeviceLostError);
    expect(() => gpu.matmul(a, a)).toThrow(DeviceLostError);
    await expect(gpu.read(a)).rejects.toThrow(DeviceLostError);
  });

  it('profiler records per-op GPU times when timestamp queries exist (no-op otherwise)', async () => {
    const gpu = await freshBackend();
    gpu.runtime.profiling = true;
    const a = gpu.tensor(randomF32(64 * 64, 1), [64, 64]);
    gpu.softmax(gpu.matmul(a, a));
    await gpu.flush();
    const entries = await gpu.runtime.profiler.take();
    if (gpu.runtime.profiler.available) {
      expect(entries.map((e) => e.label)).toEqual([`matmul:${gpu.pickMatmulPath(64, 64, 64)}`, 'softmax:dispatch']);
      for (const e of entries) expect(e.ms).toBeGreaterThanOrEqual(0);
    } else {
      expect(entries).toEqual([]);
    }
    gpu.destroy();
  });

  it('no adapter: auto falls back to cpu with a reason; webgpu is a typed error', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    const be = await createBackend({ prefer: 'auto', gpu: noAdapter });
    expect(be.name).toBe('cpu');
    expect(be.info.fallbackReason).toMatch(/no WebGPU adapter/);
    await expect(createBackend({ prefer: 'webgpu', gpu: noAdapter })).rejects.toThrow(WebGPUUnavailableError);
  });
});
