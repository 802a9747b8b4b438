/**
 * Optional GPU timing with timestamp queries. When the device lacks 'timestamp-query' every method is
 * a no-op and `available` is false. When enabled, the runtime gives each dispatch its own compute
 * pass with begin/end timestamps, so times are per op (the label "<op>:<role>").
 */
export interface ProfileEntry {
  label: string;
  ms: number;
}

export class Profiler {
  readonly available: boolean;
  private querySet?: GPUQuerySet;
  private resolve?: GPUBuffer;
  private readable?: GPUBuffer;
  private labels: string[] = [];
  private collected: ProfileEntry[] = [];
  private pendingRead: Promise<void> | null = null;

  constructor(
    private readonly device: GPUDevice,
    private readonly create: (d: GPUBufferDescriptor) => GPUBuffer,
    readonly capacity = 256,
  ) {
    this.available = device.features.has('timestamp-query');
  }

  private ensure(): void {
    if (this.querySet) return;
    this.querySet = this.device.createQuerySet({
      label: 'profiler:queries',
      type: 'timestamp',
      count: 2 * this.capacity,
    });
    this.resolve = this.create({
      label: 'profiler:resolve',
      size: 16 * this.capacity,
      usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC,
    });
    this.readable = this.create({
      label: 'profiler:readback',
      size: 16 * this.capacity,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    });
  }

  /** Timestamp writes for the next pass, or undefined when unavailable/full. */
  passTimestamps(label: string): GPUComputePassTimestampWrites | undefined {
    if (!this.available || this.labels.length >= this.capacity || this.pendingRead) return undefined;
    this.ensure();
    const i = this.labels.length;
    this.labels.push(label);
    return { querySet: this.querySet!, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 };
  }

  /** Append the resolve + copy for this submit's queries. */
  encodeResolve(encoder: GPUCommandEncoder): void {
    if (!this.labels.length || !this.querySet || this.pendingRead) return;
    const n = this.labels.length;
    encoder.resolveQuerySet(this.querySet, 0, 2 * n, this.resolve!, 0);
    encoder.copyBufferToBuffer(this.resolve!, 0, this.readable!, 0, 16 * n);
  }

  /** After submit: map and decode this batch. */
  afterSubmit(): void {
    if (!this.labels.length || !this.readable || this.pendingRead) return;
    const labels = this.labels;
    const readable = this.readable;
    this.pendingRead = readable.mapAsync(GPUMapMode.READ).then(() => {
      const t = new BigUint64Array(readable.getMappedRange().slice(0));
      readable.unmap();
      for (let i = 0; i < labels.length; i++) {
        this.collected.push({ label: labels[i], ms: Number(t[2 * i + 1] - t[2 * i]) / 1e6 });
      }
      this.labels = [];
      this.pendingRead = null;
    });
  }

  /** All entries collected so far (clears them). */
  async take(): Promise<ProfileEntry[]> {
    if (this.pendingRead) await this.pendingRead;
    const out = this.collected;
    this.collected = [];
    return out;
  }
}
