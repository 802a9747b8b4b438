/**
 * Adapter and device acquisition, one code path for the browser (`navigator.gpu`) and Node (Dawn via
 * the `webgpu` package, whose `create([])` object is kept referenced for the process lifetime:
 * dropping it crashes Node).
 */
import { LimitExceededError, WebGPUUnavailableError } from '../errors.js';
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
  /** Features used when the adapter has them (e.g. 'timestamp-query', 'shader-f16'). */
  optionalFeatures?: GPUFeatureName[];
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
  const requiredFeatures = (opts.optionalFeatures ?? ['timestamp-query']).filter((f) => adapter!.features.has(f));
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'samplescope:device' });
  } catch (e) {
    throw new WebGPUUnavailableError(`requestDevice failed: ${(e as Error).message}`, { cause: e });
  }
  return {
    device,
    adapter: summarizeAdapter(adapter),
    features: new Set([...device.features] as string[]),
    limits: effectiveLimits(device.limits, opts.limitsCap),
  };
}
