// The limits the runtime plans with (src/gpu/limits.ts): the storage-binding bound is whichever of
// maxStorageBufferBindingSize and maxBufferSize is smaller, in either order; a cap lowers limits (and
// never raises one); a bad cap is refused. The CPU backend's per-tensor budget gives the same typed
// LimitExceededError before it allocates.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { LimitExceededError } from '../../src/errors.js';
import { effectiveLimits } from '../../src/gpu/limits.js';

const device = (o: Partial<GPUSupportedLimits>) =>
  ({
    maxBufferSize: 256 << 20,
    maxStorageBufferBindingSize: 128 << 20,
    maxUniformBufferBindingSize: 65536,
    maxComputeWorkgroupsPerDimension: 65535,
    maxComputeWorkgroupStorageSize: 16384,
    maxComputeInvocationsPerWorkgroup: 256,
    ...o,
  }) as GPUSupportedLimits;

describe('effective limits', () => {
  it('the binding bound is the smaller limit, in either order', () => {
    expect(effectiveLimits(device({})).storageBinding).toEqual({
      bytes: 128 << 20,
      limit: 'maxStorageBufferBindingSize',
    });
    expect(
      effectiveLimits(device({ maxBufferSize: 64 << 20, maxStorageBufferBindingSize: 2 ** 32 - 4 })).storageBinding,
    ).toEqual({ bytes: 64 << 20, limit: 'maxBufferSize' });
  });

  it('a cap lowers a limit, never raises one, and says which it lowered', () => {
    const l = effectiveLimits(device({}), {
      maxStorageBufferBindingSize: 1 << 20,
      maxComputeWorkgroupsPerDimension: 1 << 20,
    });
    expect(l.maxStorageBufferBindingSize).toBe(1 << 20);
    expect(l.maxComputeWorkgroupsPerDimension).toBe(65535);
    expect(l.capped).toEqual(['maxStorageBufferBindingSize']);
    expect(l.storageBinding).toEqual({ bytes: 1 << 20, limit: 'maxStorageBufferBindingSize' });
    expect(effectiveLimits(device({}), { maxBufferSize: 4096 }).storageBinding).toEqual({
      bytes: 4096,
      limit: 'maxBufferSize',
    });
    expect(() => effectiveLimits(device({}), { maxBufferSize: 0 })).toThrow(RangeError);
    expect(() => effectiveLimits(device({}), { maxBufferSize: 1.5 })).toThrow(RangeError);
  });

  it('the CPU backend refuses a tensor over its budget before allocating', () => {
    const be = new CpuBackend(undefined, { maxTensorBytes: 1024 });
    expect(be.maxTensor).toEqual({ bytes: 1024, limit: 'cpuMaxTensorBytes' });
    expect(be.empty([256]).size).toBe(256);
    const err = (() => {
      try {
        be.empty([257]);
      } catch (e) {
        return e;
      }
    })() as LimitExceededError;
    expect(err).toBeInstanceOf(LimitExceededError);
    expect([err.limit, err.requested, err.available]).toEqual(['cpuMaxTensorBytes', 1028, 1024]);
    expect(() => new CpuBackend().empty([2 ** 40])).toThrow(LimitExceededError);
  });
});
