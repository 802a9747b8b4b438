/**
 * Size-classed buffer pool: storage buffers are rounded up to a size class (bucketSize: four per doubling,
 * ≥ 256 bytes) and recycled by (class, usage), so steady-state sampling allocates nothing; models free each
 * activation after its last use, so a forward's peak is its live set, not its sum. Sizes are checked against
 * the device limits before any allocation (LimitExceededError).
 */
import { LimitExceededError } from '../errors.js';
import type { EffectiveLimits } from './limits.js';

export interface PoolStats {
  /** buffers ever created through the pool */
  created: number;
  /** buffers handed out and not yet released */
  live: number;
  /** buffers waiting in the pool */
  pooled: number;
  /** bytes held by the pool (live + pooled) */
  bytes: number;
}

/**
 * The size class of a request: four classes per doubling (2^k · 1, 1.25, 1.5, 1.75), so a buffer wastes at most
 * a quarter of itself rather than up to half with powers of two (a 16.8 MiB FFN hidden took 32 MiB); ≥ 256 bytes.
 */
export function bucketSize(bytes: number): number {
  if (bytes <= 256) return 256;
  const step = 2 ** (Math.floor(Math.log2(bytes - 1)) - 2);
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly free = new Map<string, GPUBuffer[]>();
  private readonly sizeOf = new WeakMap<GPUBuffer, number>();
  private stats_: PoolStats = { created: 0, live: 0, pooled: 0, bytes: 0 };

  constructor(
    private readonly limits: EffectiveLimits,
    private readonly create: (d: GPUBufferDescriptor) => GPUBuffer,
  ) {}

  /**
   * A buffer of at least `bytes` bytes with exactly `usage`. A storage buffer must also fit one
   * binding: its bound is the smaller of maxStorageBufferBindingSize and maxBufferSize, and the
   * LimitExceededError names whichever that is on this device. `exact`: sized to the byte (weights,
   * which live as long as their model; rounding up to the bucket would waste up to half).
   */
  acquire(bytes: number, usage: number, label: string, exact = false): GPUBuffer {
    const limits = this.limits;
    const bound =
      usage & GPUBufferUsage.STORAGE ? limits.storageBinding : { bytes: limits.maxBufferSize, limit: 'maxBufferSize' };
    if (!(bytes <= bound.bytes)) throw new LimitExceededError(bound.limit, bytes, bound.bytes, label);
    let size = bucketSize(bytes);
    // no room to round up, or a long-lived buffer (a weight) that rounding would only waste
    if (exact || size > limits.maxBufferSize) size = Math.max(4, Math.ceil(bytes / 4) * 4);
    let reused = this.free.get(`${size}:${usage}`)?.pop();
    // else a free buffer of the next classes up to twice the request (what power-of-two buckets shared),
    // smallest first: fresh buffers are sized tightly, old ones still serve near sizes
    if (!exact)
      for (let c = bucketSize(size + 1); !reused && c <= 2 * bytes; c = bucketSize(c + 1))
        reused = this.free.get(`${c}:${usage}`)?.pop();
    if (reused) {
      this.stats_.pooled--;
      this.stats_.live++;
      reused.label = label;
      return reused;
    }
    const buf = this.create({ label, size, usage });
    this.sizeOf.set(buf, size);
    this.stats_.created++;
    this.stats_.live++;
    this.stats_.bytes += size;
    return buf;
  }

  release(buf: GPUBuffer): void {
    const size = this.sizeOf.get(buf);
    if (size === undefined) return; // not ours
    const key = `${size}:${buf.usage}`;
    let list = this.free.get(key);
    if (!list) this.free.set(key, (list = []));
    list.push(buf);
    this.stats_.live--;
    this.stats_.pooled++;
  }

  stats(): PoolStats {
    return { ...this.stats_ };
  }

  /** Destroy pooled (not live) buffers. */
  trim(): void {
    for (const list of this.free.values()) {
      for (const b of list) {
        this.stats_.bytes -= this.sizeOf.get(b) ?? 0;
        b.destroy();
      }
    }
    this.stats_.pooled = 0;
    this.free.clear();
  }
}
