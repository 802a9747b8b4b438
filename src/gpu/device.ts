/**
 * Adapter and device acquisition, one code path for the browser (`navigator.gpu`) and Node (Dawn via
 * the `webgpu` package, whose `create([])` object is kept referenced for the process lifetime:
 * dropping it crashes Node).
 */
import { LimitExceededError, UsageError, WebGPUUnavailableError } from '../errors.js';
import type { F16Path } from './kernels.js';
import { effectiveLimits, type EffectiveLimits, type LimitsCap } from './limits.js';

let nodeGpu: GPU | undefined;

function isNode(): boolean {
  const p = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return !!p?.versions?.node;
}

/** The platform's WebGPU entry point: `navigator.gpu` in browsers/workers, Dawn in Node. */
export async function getGPU(): Promise<GPU> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  if (isNode()) {
    if (!nodeGpu) {
      const spec = 'webgpu';
      let mod: { create(o: string[]): GPU; globals: object };
      try {
        mod = (await import(/* @vite-ignore */ spec)) as typeof mod;
      } catch (e) {
        throw new WebGPUUnavailableError('the "webgpu" package (Dawn for Node) could not be loaded', { cause: e });
      }
      Object.assign(globalThis, mod.globals);
      nodeGpu = mod.create([]);
    }
    return nodeGpu;
  }
  throw new WebGPUUnavailableError('navigator.gpu is missing: this browser has no WebGPU (or it is disabled)');
}

export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** true for CPU/software adapters (SwiftShader, lavapipe/llvmpipe) */
  software: boolean;
}

export interface AcquireOptions {
  gpu?: GPU;
  powerPreference?: GPUPowerPreference;
  /** Limits the caller needs; each is checked against the adapter (LimitExceededError if above). */
  requiredLimits?: Partial<Record<keyof GPUSupportedLimits, number>>;
  /** Features used when the adapter has them (default: 'timestamp-query' and 'shader-f16'). */
  optionalFeatures?: GPUFeatureName[];
  /**
   * How f16 weights are read: 'auto' (default) natively (`shader-f16`, requested when the adapter
   * offers it), else packed; 'packed' never requests `shader-f16`, so the device runs the portable
   * u32 + unpack2x16float path (for tests and comparisons). In Node, `SAMPLESCOPE_F16=packed` sets
   * the default.
   */
  f16?: 'auto' | 'packed';
  /**
   * Plan and refuse as if the device's limits were these (a limits simulator for tests: WebGPU never
   * grants limits below the spec defaults, so the splitting and refusal paths are otherwise reachable
   * only at sizes of hundreds of MiB).
   */
  limitsCap?: LimitsCap;
}

export interface GpuContext {
  device: GPUDevice;
  adapter: AdapterSummary;
  features: Set<string>;
  /** how f16 weights are read on this device: 'native' exactly when it has `shader-f16` */
  f16: F16Path;
  /** what the runtime plans with: the device's limits, lowered by `limitsCap` */
  limits: EffectiveLimits;
}

/** Limits raised to the adapter's maximum when the adapter offers more than the default. */
const RAISE_TO_ADAPTER: (keyof GPUSupportedLimits)[] = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxStorageBuffersPerShaderStage',
];

export function summarizeAdapter(adapter: GPUAdapter): AdapterSummary {
  const info = adapter.info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const all = `${vendor} ${architecture} ${device} ${description}`.toLowerCase();
  const software =
    /swiftshader|llvmpipe|lavapipe|software|microsoft basic/.test(all) ||
    (info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter === true;
  return { vendor, architecture, device, description, software };
}

/** Check needs against an adapter's limits; throws LimitExceededError naming the first excess. */
export function checkLimits(
  available: GPUSupportedLimits,
  needs: Partial<Record<keyof GPUSupportedLimits, number>>,
): void {
  for (const [name, value] of Object.entries(needs) as [keyof GPUSupportedLimits, number][]) {
    const have = available[name] as number | undefined;
    if (have === undefined) throw new LimitExceededError(String(name), value, 0, 'unknown limit');
    // "min" limits (alignments) are satisfied by values >= the adapter's; all others by <=
    const isMin = String(name).startsWith('min');
    if (isMin ? value < have : value > have) throw new LimitExceededError(String(name), value, have);
  }
}

export async function acquireDevice(opts: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = opts.gpu ?? (await getGPU());
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: opts.powerPreference });
  } catch (e) {
    throw new WebGPUUnavailableError('requestAdapter failed', { cause: e });
  }
  if (!adapter) throw new WebGPUUnavailableError('no WebGPU adapter is available (requestAdapter returned null)');
  const needs = opts.requiredLimits ?? {};
  checkLimits(adapter.limits, needs);
  const requiredLimits: Record<string, number> = {};
  for (const name of RAISE_TO_ADAPTER) requiredLimits[name] = adapter.limits[name] as number;
  for (const [k, v] of Object.entries(needs)) requiredLimits[k] = v as number;
  const f16 = opts.f16 ?? envF16() ?? 'auto';
  const wanted = opts.optionalFeatures ?? ['timestamp-query', 'shader-f16'];
  const requiredFeatures = wanted.filter((f) => adapter!.features.has(f) && !(f === 'shader-f16' && f16 === 'packed'));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'samplescope:device' });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice failed: ${(e as Error).message}`, { cause: e });
  }
  const features = new Set([...device.features] as string[]);
  return {
    device,
    adapter: summarizeAdapter(adapter),
    features,
    f16: features.has('shader-f16') ? 'native' : 'packed',
    limits: effectiveLimits(device.limits, opts.limitsCap),
  };
}

/** `SAMPLESCOPE_F16` in Node ('auto' | 'packed'); undefined elsewhere or when unset. */
function envF16(): 'auto' | 'packed' | undefined {
  const v = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.SAMPLESCOPE_F16;
  if (v === undefined || v === '') return undefined;
  if (v === 'auto' || v === 'packed') return v;
  throw new UsageError(`SAMPLESCOPE_F16 must be 'auto' or 'packed', not '${v}'`);
}
