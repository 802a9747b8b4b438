/**
 * The device limits the runtime plans with, read once per device: every limit a request's size can
 * run into, in whatever order the adapter sets them (maxBufferSize may be smaller or larger than
 * maxStorageBufferBindingSize), optionally lowered by a cap — a limits simulator, so tests exercise
 * the refusal and splitting paths at small sizes on any driver (WebGPU itself never grants a device
 * limits below the spec defaults).
 */

/** The limits a request's size meets: buffers, bindings and dispatch grids. */
export const PLANNED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupsPerDimension',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
] as const;
export type PlannedLimit = (typeof PLANNED_LIMITS)[number];

/** Lower some limits below the device's (tests; a value above the device's has no effect). */
export type LimitsCap = Partial<Record<PlannedLimit, number>>;

export interface EffectiveLimits extends Record<PlannedLimit, number> {
  /** the largest storage buffer a kernel can bind, and the limit that sets it (whichever is smaller) */
  storageBinding: { bytes: number; limit: PlannedLimit };
  /** the limits that a cap lowered (empty on a real run) */
  capped: PlannedLimit[];
}

export function effectiveLimits(device: GPUSupportedLimits, cap: LimitsCap = {}): EffectiveLimits {
  const out = { capped: [] as PlannedLimit[] } as unknown as EffectiveLimits;
  for (const name of PLANNED_LIMITS) {
    const have = device[name] as number;
    const c = cap[name];
    if (c !== undefined && !(Number.isSafeInteger(c) && c > 0))
      throw new RangeError(`limits cap ${name} must be a positive integer, got ${c}`);
    out[name] = c !== undefined && c < have ? c : have;
    if (out[name] !== have) out.capped.push(name);
  }
  out.storageBinding =
    out.maxStorageBufferBindingSize <= out.maxBufferSize
      ? { bytes: out.maxStorageBufferBindingSize, limit: 'maxStorageBufferBindingSize' }
      : { bytes: out.maxBufferSize, limit: 'maxBufferSize' };
  return out;
}
