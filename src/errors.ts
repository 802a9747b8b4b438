/**
 * Typed errors. Every failure a caller can meet is one of these, with the facts needed to act on it
 * (which limit, which kernel, which row). They survive the worker boundary by `name` + fields.
 */

export class SamplescopeError extends Error {
  /** Stable machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** No WebGPU implementation or no adapter could be obtained. */
export class WebGPUUnavailableError extends SamplescopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('webgpu-unavailable', message, options);
  }
}

/** A requested resource exceeds what the adapter/device supports. Raised before any allocation. */
export class LimitExceededError extends SamplescopeError {
  constructor(
    readonly limit: string,
    readonly requested: number,
    readonly available: number,
    context = '',
  ) {
    super(
      'limit-exceeded',
      `${context ? context + ': ' : ''}needs ${limit} = ${requested}, but the ${limit.startsWith('cpu') ? 'CPU backend' : 'adapter'} allows ${available}`,
    );
  }
}

export interface ShaderMessage {
  type: string;
  message: string;
  line: number;
  column: number;
}

/** WGSL failed to compile or a pipeline failed to build; carries the compiler's messages. */
export class ShaderCompileError extends SamplescopeError {
  constructor(
    readonly kernel: string,
    readonly messages: ShaderMessage[],
    detail = '',
  ) {
    const first = messages.map((m) => `${m.line}:${m.column} ${m.message}`).join('\n');
    super(
      'shader-compile',
      `kernel "${kernel}" failed to compile${detail ? ` (${detail})` : ''}:\n${first || '(no message)'}`,
    );
  }
}

/** The GPU device was lost (destroyed, driver reset, …). Work in flight is not trusted. */
export class DeviceLostError extends SamplescopeError {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super('device-lost', `GPU device lost (${reason}): ${message || 'no message'}`);
  }
}

/** WebGPU reported a validation or out-of-memory error for submitted work. */
export class GpuValidationError extends SamplescopeError {
  constructor(
    readonly kind: 'validation' | 'out-of-memory' | 'internal',
    message: string,
  ) {
    super('gpu-' + kind, `GPU ${kind} error: ${message}`);
  }
}

/** Copying a GPU result back to the host failed; no data is returned in its place. */
export class ReadbackError extends SamplescopeError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('readback', message, options);
  }
}

/** An op was called with tensors of the wrong shape, dtype, backend or with bad options. */
export class OpInputError extends SamplescopeError {
  constructor(
    readonly op: string,
    message: string,
  ) {
    super('op-input', `${op}: ${message}`);
  }
}

/** Logits that define no distribution (NaN, +inf, or no finite entry) reached the sampler. */
export class InvalidLogitsError extends SamplescopeError {
  constructor(readonly rows: number[]) {
    super(
      'invalid-logits',
      `rows ${rows.slice(0, 8).join(', ')}${rows.length > 8 ? ', …' : ''} hold NaN/+inf logits or no finite logit`,
    );
  }
}

/** A tensor was used after it was freed, or on the wrong backend. */
export class TensorStateError extends SamplescopeError {
  constructor(message: string) {
    super('tensor-state', message);
  }
}

/** A model file or manifest breaks a format rule; names the tensor (if any — a tensor may be named "") and the rule. */
export class ModelFormatError extends SamplescopeError {
  constructor(
    readonly rule: string,
    message: string,
    readonly tensor?: string,
    readonly file?: string,
  ) {
    super(
      'model-format',
      `${file ? file + ': ' : ''}${tensor !== undefined ? `tensor "${tensor}": ` : ''}${message} [${rule}]`,
    );
  }
}

/**
 * A downloaded or read file does not have the size or sha256 its manifest promises; nothing was
 * loaded. `check` says which: expected/actual are byte counts (exact, as BigInt-safe integers) or
 * sha256 hex digests.
 */
export class IntegrityError extends SamplescopeError {
  constructor(
    readonly file: string,
    readonly expected: string,
    readonly actual: string,
    readonly check: 'sha256' | 'bytes' = 'sha256',
  ) {
    super(
      'integrity',
      check === 'bytes'
        ? `${file}: expected ${expected} bytes (the manifest's), got ${actual} bytes`
        : `${file}: expected sha256 ${expected} (the manifest's), got ${actual}`,
    );
  }
}

/** A model could not be fetched or read. */
export class ModelLoadError extends SamplescopeError {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super('model-load', `${source}: ${message}`, options);
  }
}

/** A sampler knob is out of its allowed range; names the knob, the range and the value given. */
export class SamplerConfigError extends SamplescopeError {
  constructor(
    readonly knob: string,
    readonly allowed: string,
    readonly value: unknown,
  ) {
    super(
      'sampler-config',
      `knob "${knob}" must be ${allowed}, got ${typeof value === 'bigint' ? value.toString() : JSON.stringify(value)}`,
    );
  }
}

/** A request was cancelled (its cancel token fired); thrown within one model call of the cancel. */
export class AbortError extends SamplescopeError {
  constructor(
    readonly requestId: string,
    readonly step: number,
  ) {
    super('aborted', `request ${requestId} was cancelled at step ${step}`);
  }
}

/** The engine worker died (uncaught error or terminated) with this call pending; the next call starts a new worker. */
export class WorkerCrashedError extends SamplescopeError {
  constructor(readonly reason: string) {
    super('worker-crashed', `the engine worker stopped: ${reason}`);
  }
}

/** An engine call named a model handle that is not loaded. */
export class UnknownModelError extends SamplescopeError {
  constructor(
    readonly model: string,
    readonly loaded: string[],
  ) {
    super('unknown-model', `no loaded model "${model}" (loaded: ${loaded.join(', ') || 'none'})`);
  }
}

/**
 * A model URL is outside the origins the embedding page allows (default: the page's own origin);
 * refused before anything is fetched.
 */
export class OriginNotAllowedError extends SamplescopeError {
  constructor(
    readonly url: string,
    readonly origin: string,
    readonly allowed: string[],
  ) {
    super(
      'origin-not-allowed',
      `${url}: origin ${origin} is not allowed (allowed: ${allowed.join(', ') || 'none'}); the embedding page can extend the list (allowedOrigins / allowed-origins)`,
    );
  }
}

/**
 * A command line that cannot mean what was typed: an unknown option (with the closest known one), a
 * value out of range, a missing argument, an output that cannot be written. Found before any model
 * loads; the CLI exits 2.
 */
export class UsageError extends SamplescopeError {
  constructor(message: string) {
    super('usage', message);
  }
}

/**
 * A finished result could not be written where it was asked to go; `savedTo` is where it went
 * instead (a file in the temporary folder), so the work is not lost.
 */
export class OutputWriteError extends SamplescopeError {
  constructor(
    readonly path: string,
    readonly reason: string,
    readonly savedTo?: string,
  ) {
    super(
      'output-write',
      `could not write ${path} (${reason}); ${savedTo ? `the results are safe in ${savedTo}` : 'and saving a copy in the temporary folder failed too'}`,
    );
  }
}

/** Why a sweep shard refused to run or a merge refused to join (see src/sweep/cluster.ts). */
export type ShardProblem =
  'no-scheduler' | 'index-range' | 'count-changed' | 'other-shard' | 'other-spec' | 'locked' | 'incomplete';

/**
 * A sweep shard that cannot run as asked, found before any setting runs and before anything is
 * written: a scheduler index outside [0, n), a shard count that differs from the one an output file
 * (or another part) was written with, an output that holds another shard's or another spec's records,
 * an output another live process is writing; or a merge of parts that are not all done (`missing`
 * names the shards). The CLI exits 1.
 */
export class ShardError extends SamplescopeError {
  constructor(
    readonly problem: ShardProblem,
    message: string,
    /** for 'incomplete': the shards ("i/n") with settings missing */
    readonly missing: string[] = [],
  ) {
    super(`shard-${problem}`, message);
  }
}

/**
 * `--require-hardware` on an adapter that is not a hardware GPU: a software rasteriser (lavapipe,
 * llvmpipe, SwiftShader), a fallback adapter, or the CPU backend. Raised before any model loads.
 */
export class AdapterRequirementError extends SamplescopeError {
  constructor(
    readonly adapter: string,
    message: string,
  ) {
    super('adapter-required', message);
  }
}
