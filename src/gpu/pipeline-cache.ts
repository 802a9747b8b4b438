/**
 * The one place compute pipelines are made. Keyed by kernel + source variant + entry + `override`
 * constants, so each specialisation compiles once per device. Creation is synchronous (ops stay synchronous encoders);
 * its validation is captured in an error scope and the compiler's messages are collected, and any
 * failure surfaces as a ShaderCompileError at the next flush/read (or at once from `getPipelineAsync`).
 */
import { OpInputError, ShaderCompileError, type ShaderMessage } from '../errors.js';
import { kernelSource, variantKey, type KernelVariant } from './kernels.js';

export type Constants = Record<string, number | boolean>;

export interface PipelineKey {
  kernel: string;
  /** entry point; defaults to the kernel name */
  entry?: string;
  constants?: Constants;
  /** which lib pieces fill the kernel's slots (src/gpu/kernels.ts); default: the portable ones */
  variant?: KernelVariant;
  /** replace the registry source (tests of the compile-error path) */
  source?: string;
}

function keyOf(k: PipelineKey): string {
  const c = k.constants ?? {};
  const parts = Object.keys(c)
    .sort()
    .map((n) => `${n}=${Number(c[n])}`);
  const custom = k.source !== undefined ? ':custom' : '';
  return `${k.kernel}[${variantKey(k.variant)}]:${k.entry ?? k.kernel}:${parts.join(',')}${custom}`;
}

export class PipelineCache {
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly modules = new Map<string, GPUShaderModule>();
  /** compile checks not yet awaited */
  private pending: Promise<ShaderCompileError | null>[] = [];
  /** how many pipelines were built (cache misses) */
  compiled = 0;

  constructor(private readonly device: GPUDevice) {}

  get size(): number {
    return this.pipelines.size;
  }

  getPipeline(k: PipelineKey): GPUComputePipeline {
    const key = keyOf(k);
    const hit = this.pipelines.get(key);
    if (hit) return hit;
    const entry = k.entry ?? k.kernel;
    const device = this.device;
    if (k.variant?.f16 === 'native' && !device.features.has('shader-f16'))
      throw new OpInputError('kernel', `${k.kernel}: the native f16 variant needs the device feature shader-f16`);
    const modKey = k.source !== undefined ? `${k.kernel}:custom:${key}` : `${k.kernel}[${variantKey(k.variant)}]`;
    let module = this.modules.get(modKey);
    device.pushErrorScope('validation');
    if (!module) {
      const code = kernelSource(k.kernel, k.source, k.variant);
      module = device.createShaderModule({ label: `${k.kernel}:module`, code });
      this.modules.set(modKey, module);
    }
    const pipeline = device.createComputePipeline({
      label: `${k.kernel}:pipeline`,
      layout: 'auto',
      compute: { module, entryPoint: entry, constants: toConstants(k.constants) },
    });
    const scope = device.popErrorScope();
    const mod = module;
    this.pending.push(
      Promise.all([scope, mod.getCompilationInfo()]).then(([err, info]) => {
        const messages: ShaderMessage[] = info.messages
          .filter((m) => m.type === 'error')
          .map((m) => ({ type: m.type, message: m.message, line: m.lineNum, column: m.linePos }));
        if (messages.length || err) {
          this.pipelines.delete(key);
          this.modules.delete(modKey);
          return new ShaderCompileError(k.kernel, messages, err ? err.message : '');
        }
        return null;
      }),
    );
    this.pipelines.set(key, pipeline);
    this.compiled++;
    return pipeline;
  }

  /** Build (or fetch) a pipeline and wait for its compile result: throws ShaderCompileError at once. */
  async getPipelineAsync(k: PipelineKey): Promise<GPUComputePipeline> {
    const p = this.getPipeline(k);
    await this.check();
    return p;
  }

  /** Await outstanding compile checks; throws the first ShaderCompileError. */
  async check(): Promise<void> {
    if (!this.pending.length) return;
    const list = this.pending;
    this.pending = [];
    const results = await Promise.all(list);
    const bad = results.find((r) => r !== null);
    if (bad) throw bad;
  }
}

function toConstants(c?: Constants): Record<string, number> | undefined {
  if (!c) return undefined;
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(c)) out[k] = Number(v);
  return out;
}
