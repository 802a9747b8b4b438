/**
 * GPU runtime: one device, one pipeline cache, one buffer pool, one command list per step.
 *
 * Ops call `dispatch()`, which only encodes into the current compute pass; nothing is submitted until
 * `submit()`/`flush()`/`read()`. Per-dispatch uniforms live in a reusable arena written once per
 * submit. Readback uses a single reusable staging buffer. Device loss, validation errors and shader
 * compile failures surface as typed errors at the next flush/read — a failed read never returns data.
 */
import { DeviceLostError, GpuValidationError, LimitExceededError, ReadbackError } from '../errors.js';
import { BufferPool } from './buffer-pool.js';
import type { GpuContext } from './device.js';
import type { KernelVariant } from './kernels.js';
import type { EffectiveLimits } from './limits.js';
import { PipelineCache, type Constants } from './pipeline-cache.js';
import { Profiler } from './profiler.js';

export type Binding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

export interface DispatchSpec {
  kernel: string;
  entry?: string;
  constants?: Constants;
  /** the kernel's source variant (src/gpu/kernels.ts) */
  variant?: KernelVariant;
  /** uniform parameters (binding 0); ≤ 256 bytes */
  params: ArrayBufferView;
  /** storage bindings 1..n in order */
  bindings: Binding[];
  /** workgroup counts */
  grid: [number, number?, number?];
  /** "<op>:<role>" */
  label: string;
}

const ARENA_CHUNK = 64 * 1024;

interface ArenaChunk {
  buffer: GPUBuffer;
  shadow: Uint8Array;
  used: number;
}

/**
 * Split a 1-D workgroup count over x/y so that neither exceeds the per-dimension limit (default: the
 * spec's 65535, which every device allows); beyond maxPerDim² it is a LimitExceededError.
 */
export function grid1d(groups: number, maxPerDim = 65535): { grid: [number, number]; groupsX: number } {
  const g = Math.max(1, groups);
  if (g <= maxPerDim) return { grid: [g, 1], groupsX: g };
  const y = Math.ceil(g / maxPerDim);
  if (y > maxPerDim)
    throw new LimitExceededError(
      'maxComputeWorkgroupsPerDimension',
      y,
      maxPerDim,
      `a grid of ${g} workgroups split over x and y`,
    );
  return { grid: [maxPerDim, y], groupsX: maxPerDim };
}

export class GpuRuntime {
  readonly device: GPUDevice;
  readonly pipelines: PipelineCache;
  readonly pool: BufferPool;
  readonly profiler: Profiler;
  /** the limits every plan and refusal uses (the device's, or lower under a limits cap) */
  readonly limits: EffectiveLimits;
  /** every createBuffer made by this runtime (pool, arena, staging, profiler) */
  buffersCreated = 0;
  profiling = false;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private arena: ArenaChunk[] = [];
  private arenaIndex = 0;
  private readonly align: number;
  private staging: GPUBuffer | null = null;
  private readChain: Promise<unknown> = Promise.resolve();
  private scopeChecks: Promise<GpuValidationError | null>[] = [];
  private scopesOpen = false;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private uncaptured: GpuValidationError | null = null;
  private dummy: GPUBuffer;
  private dispatchCount = 0;

  constructor(readonly ctx: GpuContext) {
    this.device = ctx.device;
    this.limits = ctx.limits;
    this.align = this.device.limits.minUniformBufferOffsetAlignment;
    this.pipelines = new PipelineCache(this.device);
    const create = (d: GPUBufferDescriptor) => this.createBuffer(d);
    this.pool = new BufferPool(this.limits, create);
    this.profiler = new Profiler(this.device, create);
    this.dummy = this.createBuffer({ label: 'runtime:dummy', size: 16, usage: GPUBufferUsage.STORAGE });
    void this.device.lost.then((info) => {
      this.lostInfo = info;
    });
    this.device.addEventListener('uncapturederror', (ev) => {
      const e = (ev as GPUUncapturedErrorEvent).error;
      this.uncaptured ??= new GpuValidationError(kindOf(e), e.message);
    });
  }

  /** The single place buffers are created (counted, so tests can assert none are made per step). */
  createBuffer(desc: GPUBufferDescriptor): GPUBuffer {
    this.assertAlive();
    this.buffersCreated++;
    return this.device.createBuffer(desc);
  }

  /** A 16-byte storage buffer for bindings a specialisation does not read. */
  get dummyBuffer(): GPUBuffer {
    return this.dummy;
  }

  get isLost(): boolean {
    return this.lostInfo !== null;
  }

  /** Number of dispatches encoded so far (all steps). */
  get dispatches(): number {
    return this.dispatchCount;
  }

  assertAlive(): void {
    if (this.lostInfo) throw new DeviceLostError(this.lostInfo.reason, this.lostInfo.message);
  }

  private ensureEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.scopesOpen = true;
      this.encoder = this.device.createCommandEncoder({ label: 'runtime:step' });
    }
    return this.encoder;
  }

  private ensurePass(label: string): GPUComputePassEncoder {
    const enc = this.ensureEncoder();
    if (this.profiling && this.profiler.available) {
      this.endPass();
      const ts = this.profiler.passTimestamps(label);
      this.pass = enc.beginComputePass({ label, timestampWrites: ts });
      return this.pass;
    }
    if (!this.pass) this.pass = enc.beginComputePass({ label: 'runtime:pass' });
    return this.pass;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  private arenaSlot(bytes: number): { buffer: GPUBuffer; offset: number } {
    const need = Math.ceil(bytes / this.align) * this.align;
    let chunk = this.arena[this.arenaIndex];
    if (chunk && chunk.used + need > ARENA_CHUNK) {
      this.arenaIndex++;
      chunk = this.arena[this.arenaIndex];
    }
    if (!chunk) {
      chunk = {
        buffer: this.createBuffer({
          label: `runtime:uniforms${this.arena.length}`,
          size: ARENA_CHUNK,
          usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST,
        }),
        shadow: new Uint8Array(ARENA_CHUNK),
        used: 0,
      };
      this.arena.push(chunk);
    }
    const offset = chunk.used;
    chunk.used += need;
    return { buffer: chunk.buffer, offset };
  }

  /** Encode one kernel dispatch into the current step. */
  dispatch(spec: DispatchSpec): void {
    this.assertAlive();
    const maxDim = this.limits.maxComputeWorkgroupsPerDimension;
    for (const n of spec.grid) {
      if (n !== undefined && n > maxDim)
        throw new LimitExceededError('maxComputeWorkgroupsPerDimension', n, maxDim, spec.label);
    }
    const { kernel, entry, constants, variant } = spec;
    const pipeline = this.pipelines.getPipeline({ kernel, entry, constants, variant });
    const p = spec.params;
    const bytes = new Uint8Array(p.buffer, p.byteOffset, p.byteLength);
    const size = Math.max(16, Math.ceil(bytes.byteLength / 16) * 16);
    const slot = this.arenaSlot(size);
    const chunk = this.arena[this.arenaIndex];
    chunk.shadow.set(bytes, slot.offset);
    const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: slot.buffer, offset: slot.offset, size } }];
    spec.bindings.forEach((b, i) => {
      const res = 'buffer' in b ? b : { buffer: b };
      entries.push({ binding: i + 1, resource: res as GPUBufferBinding });
    });
    const pass = this.ensurePass(spec.label);
    const bindGroup = this.device.createBindGroup({
      label: `${spec.label}:bind`,
      layout: pipeline.getBindGroupLayout(0),
      entries,
    });
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    const [x, y = 1, z = 1] = spec.grid;
    pass.dispatchWorkgroups(x, y, z);
    this.dispatchCount++;
    if (this.profiling) this.endPass();
  }

  /** Encode a buffer-to-buffer copy into the current step. */
  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, bytes: number): void {
    this.assertAlive();
    const enc = this.ensureEncoder();
    this.endPass();
    enc.copyBufferToBuffer(src, srcOffset, dst, dstOffset, bytes);
  }

  /**
   * Upload host data. Queue writes run before any not-yet-submitted commands, so pending work is
   * submitted first: a write never changes what an earlier-encoded op reads.
   */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    this.assertAlive();
    if (this.encoder) this.submit();
    this.device.queue.writeBuffer(buffer, offset, data.buffer, data.byteOffset, data.byteLength);
  }

  /** Submit the current step (if any) without waiting. */
  submit(): void {
    this.assertAlive();
    if (!this.encoder) return;
    this.endPass();
    if (this.profiling) this.profiler.encodeResolve(this.encoder);
    for (let i = 0; i <= this.arenaIndex && i < this.arena.length; i++) {
      const c = this.arena[i];
      if (c.used) this.device.queue.writeBuffer(c.buffer, 0, c.shadow.buffer, 0, c.used);
      c.used = 0;
    }
    this.arenaIndex = 0;
    const cmd = this.encoder.finish({ label: 'runtime:step' });
    this.encoder = null;
    this.device.queue.submit([cmd]);
    if (this.profiling) this.profiler.afterSubmit();
    if (this.scopesOpen) {
      this.scopesOpen = false;
      const v = this.device.popErrorScope();
      const m = this.device.popErrorScope();
      this.scopeChecks.push(
        Promise.all([v, m]).then(([ve, me]) => {
          const e = ve ?? me;
          return e ? new GpuValidationError(kindOf(e), e.message) : null;
        }),
      );
    }
  }

  /** Throw the first pending error (compile, validation, OOM, loss), if any. */
  async check(): Promise<void> {
    await this.pipelines.check();
    const checks = this.scopeChecks;
    this.scopeChecks = [];
    const results = await Promise.all(checks);
    this.assertAlive();
    const bad = results.find((r) => r !== null);
    if (bad) throw bad;
    if (this.uncaptured) {
      const e = this.uncaptured;
      this.uncaptured = null;
      throw e;
    }
  }

  /** Submit and wait until the GPU has finished everything submitted. */
  async flush(): Promise<void> {
    this.submit();
    await this.device.queue.onSubmittedWorkDone();
    await this.check();
  }

  /** Copy `bytes` from `buffer` back to the host (submits pending work first). */
  read(buffer: GPUBuffer, byteOffset: number, bytes: number): Promise<ArrayBuffer> {
    const run = async (): Promise<ArrayBuffer> => {
      this.assertAlive();
      const need = Math.max(256, Math.ceil(bytes / 4) * 4);
      if (!this.staging || this.staging.size < need) {
        this.staging?.destroy();
        this.staging = this.createBuffer({
          label: 'runtime:staging',
          size: 2 ** Math.ceil(Math.log2(need)),
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        });
      }
      const staging = this.staging;
      this.copy(buffer, byteOffset, staging, 0, Math.ceil(bytes / 4) * 4);
      this.submit();
      try {
        await staging.mapAsync(GPUMapMode.READ, 0, need);
      } catch (e) {
        await this.settleLoss();
        this.assertAlive();
        await this.check();
        throw new ReadbackError(`mapping the staging buffer failed: ${(e as Error).message}`, { cause: e });
      }
      try {
        // check before trusting the bytes: a failed step must not pass for a result
        await this.check();
        return staging.getMappedRange(0, need).slice(0, bytes);
      } finally {
        staging.unmap();
      }
    };
    const p = this.readChain.then(run, run);
    this.readChain = p.catch(() => undefined);
    return p;
  }

  /** Give `device.lost` a moment to resolve after a failed map (it settles asynchronously). */
  private async settleLoss(): Promise<void> {
    if (this.lostInfo) return;
    await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 50))]);
  }

  destroy(): void {
    this.pool.trim();
    this.device.destroy();
  }
}

function kindOf(e: GPUError): 'validation' | 'out-of-memory' | 'internal' {
  const n = e.constructor?.name ?? '';
  if (n.includes('OutOfMemory')) return 'out-of-memory';
  if (n.includes('Internal')) return 'internal';
  return 'validation';
}
