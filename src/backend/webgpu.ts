/** The WebGPU backend: each op validates its inputs, then encodes one kernel dispatch. */
import { LimitExceededError, OpInputError } from '../errors.js';
import type { F16Path, KernelVariant } from '../gpu/kernels.js';
import { grid1d, GpuRuntime } from '../gpu/runtime.js';
import { seedToKey } from '../rng.js';
import { ATTENTION_PARAMS, planAttention, type AttentionOptions } from '../ops/attention.js';
import { SWIGLU_PARAMS, planSwiglu } from '../ops/swiglu.js';
import {
  CATEGORICAL_PARAMS,
  checkSamples,
  planCategorical,
  PRECISION_CODES,
  type SampleOptions,
} from '../ops/categorical.js';
import { CONV2D_PARAMS, planConv2d, type Conv2dOptions } from '../ops/conv2d.js';
import {
  ACTIVATION_CODES,
  ELEMENTWISE_CODES,
  ELEMENTWISE_PARAMS,
  planElementwise,
  type ElementwiseOp,
  type ElementwiseOptions,
} from '../ops/elementwise.js';
import { planRng, RNG_OUTPUT_CODES, RNG_PARAMS, type RngOptions } from '../ops/rng.js';
import { planRope, ROPE_PARAMS } from '../ops/rope.js';
import { DIFFUSION_STEP_PARAMS, planDiffusionStep, type DiffusionStepOptions } from '../ops/diffusion_step.js';
import { LAYER_NORM_PARAMS, planLayerNorm, type NormOptions } from '../ops/layer_norm.js';
import { MATMUL_ACTIVATIONS, MATMUL_PARAMS, planMatmul, type MatmulOptions } from '../ops/matmul.js';
import { EMBEDDING_PARAMS, planEmbedding } from '../ops/embedding.js';
import { KV_WRITE_PARAMS, planKvWrite } from '../ops/kv_write.js';
import { SPEC_VERIFY_PARAMS, planSpecVerify, type SpecVerifyOptions } from '../ops/spec_verify.js';
import { MODULATE_MODES, MODULATE_PARAMS, planModulate } from '../ops/modulate.js';
import { PATCHIFY_PARAMS, planPatch, type UnpatchifyOptions } from '../ops/patchify.js';
import { planPool2d, POOL2D_KINDS, POOL2D_PARAMS, type Pool2dOptions } from '../ops/pool2d.js';
import { planRmsNorm, RMS_NORM_PARAMS } from '../ops/rms_norm.js';
import type { ParamFields, ParamsStruct, ParamValues } from '../ops/params.js';
import { SOFTMAX_PARAMS, type SoftmaxOptions } from '../ops/softmax.js';
import type { Backend, BackendInfo, OutOption, TensorBound } from './backend.js';
import { ElementwiseShorthands } from './shorthands.js';
import { expectOut, planReshape, planRows, planStack, planWrite } from './shapes.js';
import type { DType, HostArray, Tensor } from './tensor.js';
import { assertLive, checkShape, dtypeOf, hostArray, sizeOf, storageBytes } from './tensor.js';

// STORAGE | COPY_SRC | COPY_DST (constants, so this module loads without WebGPU globals)
const STORAGE = 0x80 | 0x04 | 0x08;

/** One binding's share of a tensor split into row blocks: rows [row0, row0 + rows) of dimension 0. */
export interface RowBlock {
  buffer: GPUBuffer;
  row0: number;
  rows: number;
}

export class GpuTensor implements Tensor {
  readonly backend = 'webgpu' as const;
  readonly size: number;
  freed = false;
  view = false;
  role?: 'samples';
  /**
   * Set when the tensor is larger than one storage binding: its rows (dimension 0) in blocks, one
   * buffer each (`buffer` is then the first block's). Only matmul's B (with transB) and embedding's
   * table read it; any other op refuses it (LimitExceededError).
   */
  blocks?: RowBlock[];
  constructor(
    readonly buffer: GPUBuffer,
    readonly shape: readonly number[],
    readonly dtype: DType,
  ) {
    this.size = sizeOf(shape);
  }
}

/**
 * Rows per block for a (rows, …) tensor of `rowElems` elements per row under a binding of `bound`
 * bytes (each block is its own buffer, f16 packed from its own word 0).
 */
export function rowsPerBlock(dtype: DType, rows: number, rowElems: number, bound: number): number {
  return Math.min(rows, Math.floor(bound / ((dtype === 'f16' ? 2 : 4) * rowElems)));
}

/** Packs an op's declared uniform struct, given the dispatch grid's groups_x. */
type Packer = (groupsX: number) => DataView;
/** A kernel's `override` constants (WG among them where it has one). */
type Constants = Record<string, number | boolean>;

/** Row-kernel workgroup size: a power of two that roughly fits the row. */
function rowWG(C: number): number {
  return C >= 256 ? 256 : C >= 128 ? 128 : 64;
}

/** Sampler workgroup: ~2 tokens per thread, between one warp (32) and 256 threads. */
function sampleWG(V: number): number {
  return Math.min(256, Math.max(32, 2 ** Math.ceil(Math.log2(Math.max(1, V / 2)))));
}

export class WebGPUBackend extends ElementwiseShorthands implements Backend {
  readonly name = 'webgpu' as const;
  readonly info: BackendInfo;
  /** scratch for uniform parameters (copied into the runtime's arena at dispatch) */
  private readonly scratch = new DataView(new ArrayBuffer(256));

  /**
   * Which matmul kernel runs (shaders/matmul.wgsl). 'auto': the barrier-free blocked kernel on
   * software adapters (measured 6–30× faster than the tiled one on SwiftShader and 1.5–4× on
   * lavapipe, M from 16 to 1024; `npm run bench -- --only profile`) and for products too small to
   * fill 64×64 tiles (M < 64, N < 32 or K < 32); the tiled workgroup-memory kernel otherwise.
   * Tests force each path.
   */
  matmulPath: 'auto' | 'tiled' | 'blocked' = 'auto';

  pickMatmulPath(M: number, N: number, K: number): 'tiled' | 'blocked' {
    if (this.matmulPath !== 'auto') return this.matmulPath;
    if (this.runtime.ctx.adapter.software) return 'blocked';
    return M < 64 || N < 32 || K < 32 ? 'blocked' : 'tiled';
  }

  constructor(readonly runtime: GpuRuntime) {
    super();
    // native f16 reads where the device has shader-f16 — except on software adapters, where they measured
    // 0.65–1.0× the packed path (lavapipe, `npm run bench:f16`); a test or bench switches with f16Path
    const f16 = runtime.ctx.f16 === 'native' && !runtime.ctx.adapter.software ? 'native' : 'packed';
    this.info = { name: 'webgpu', adapter: runtime.ctx.adapter, f16 };
  }

  /**
   * How matmul's B and embedding's table are read when they are f16 (shaders/lib/f16_*.wgsl): 'native'
   * where the device has `shader-f16` and the adapter is hardware (the default there), else 'packed'.
   * Tests and benches switch it to compare the two on one device; 'native' on a device without the
   * feature is an OpInputError.
   */
  get f16Path(): F16Path {
    return this.info.f16!;
  }

  set f16Path(p: F16Path) {
    if (p === 'native' && this.runtime.ctx.f16 !== 'native')
      throw new OpInputError('f16Path', "'native' needs the device feature shader-f16, which this device lacks");
    this.info.f16 = p;
  }

  /** the source variant of a kernel that reads weights of this dtype */
  private weightVariant(dtype: DType): KernelVariant | undefined {
    return dtype === 'f16' && this.f16Path === 'native' ? { f16: 'native' } : undefined;
  }

  get maxTensor(): TensorBound {
    return this.runtime.limits.storageBinding;
  }

  /** workgroups per grid dimension */
  private get maxGroups(): number {
    return this.runtime.limits.maxComputeWorkgroupsPerDimension;
  }

  private buf(t: Tensor): GPUBuffer {
    const g = t as GpuTensor;
    if (g.blocks) {
      const b = this.maxTensor;
      throw new LimitExceededError(
        b.limit,
        storageBytes(t.dtype, t.size),
        b.bytes,
        `a [${t.shape.join(', ')}] ${t.dtype} tensor split over ${g.blocks.length} bindings (only matmul's transposed B and embedding's table read split tensors)`,
      );
    }
    return g.buffer;
  }

  /** A tensor's row blocks: its blocks if split, else one block of all rows. */
  private blocksOf(t: Tensor): RowBlock[] {
    const g = t as GpuTensor;
    return g.blocks ?? [{ buffer: g.buffer, row0: 0, rows: t.shape[0] }];
  }

  private alloc(shape: readonly number[], dtype: DType, label: string, out?: Tensor, exact = false): GpuTensor {
    if (out) return out as GpuTensor;
    const bytes = Math.max(4, storageBytes(dtype, sizeOf(shape)));
    const t = new GpuTensor(this.runtime.pool.acquire(bytes, STORAGE, label, exact), [...shape], dtype);
    for (const s of this.scopes) s.add(t);
    return t;
  }

  /** tensors allocated inside each open `scoped` call, innermost last */
  private readonly scopes: Set<GpuTensor>[] = [];

  scoped<T>(f: () => T): T {
    const s = new Set<GpuTensor>();
    this.scopes.push(s);
    try {
      return f();
    } catch (e) {
      for (const t of s) this.free(t);
      throw e;
    } finally {
      this.scopes.splice(this.scopes.lastIndexOf(s), 1);
    }
  }

  /** Pack an op's declared uniform struct (src/ops/params.ts) into the scratch. */
  private pack<F extends ParamFields>(s: ParamsStruct<F>, values: ParamValues<F>): DataView {
    return s.pack(values, this.scratch);
  }

  tensor(data: HostArray, shape: readonly number[], o: { weight?: boolean } = {}): Tensor {
    checkShape(shape);
    if (sizeOf(shape) !== data.length)
      throw new OpInputError(
        'tensor',
        `shape [${shape.join(', ')}] needs ${sizeOf(shape)} elements, data has ${data.length}`,
      );
    const dtype = dtypeOf(data);
    const bound = this.maxTensor;
    if (o.weight && storageBytes(dtype, data.length) > bound.bytes && shape.length >= 2)
      return this.splitTensor(data, shape);
    const t = this.alloc(shape, dtype, o.weight ? 'tensor:weight' : 'tensor:data', undefined, o.weight);
    if (data.length) this.upload(t.buffer, data);
    return t;
  }

  /** writeBuffer needs whole 4-byte words: an odd count of f16 values goes up with one zero half. */
  private upload(buffer: GPUBuffer, data: HostArray): void {
    if (data instanceof Uint16Array && data.length % 2) {
      const padded = new Uint16Array(data.length + 1);
      padded.set(data);
      data = padded;
    }
    this.runtime.write(buffer, data);
  }

  /**
   * A tensor larger than one storage binding, as row blocks of dimension 0, each within the binding
   * (weights of models past maxStorageBufferBindingSize). Refused, before any allocation, when one row
   * alone is larger than a binding.
   */
  private splitTensor(data: HostArray, shape: readonly number[]): GpuTensor {
    const dtype = dtypeOf(data);
    const bound = this.maxTensor;
    const rows = shape[0];
    const rowElems = data.length / rows;
    const per = rowsPerBlock(dtype, rows, rowElems, bound.bytes);
    if (per < 1)
      throw new LimitExceededError(
        bound.limit,
        storageBytes(dtype, rowElems),
        bound.bytes,
        `one row of a [${shape.join(', ')}] ${dtype} tensor (a row is the smallest block a split keeps together)`,
      );
    const blocks: RowBlock[] = [];
    return this.scoped(() => {
      const parts: GpuTensor[] = [];
      for (let r0 = 0; r0 < rows; r0 += per) {
        const n = Math.min(per, rows - r0);
        const part = this.alloc([n, ...shape.slice(1)], dtype, `tensor:weight${blocks.length}`, undefined, true);
        this.upload(part.buffer, data.subarray(r0 * rowElems, (r0 + n) * rowElems));
        parts.push(part);
        blocks.push({ buffer: part.buffer, row0: r0, rows: n });
      }
      // the whole owns the blocks' buffers from here: the parts are dropped without release
      for (const p of parts) for (const sc of this.scopes) sc.delete(p);
      const t = new GpuTensor(blocks[0].buffer, [...shape], dtype);
      t.blocks = blocks;
      for (const sc of this.scopes) sc.add(t);
      return t;
    });
  }

  stack(parts: readonly Tensor[]): Tensor {
    const shape = planStack(parts, 'webgpu');
    if (parts.length === 1) return parts[0];
    const blocks: RowBlock[] = [];
    let row0 = 0;
    for (const p of parts as GpuTensor[]) {
      for (const b of this.blocksOf(p))
        if (b.rows) blocks.push({ buffer: b.buffer, row0: row0 + b.row0, rows: b.rows });
        else this.runtime.pool.release(b.buffer); // an empty part holds nothing the result needs
      row0 += p.shape[0];
      p.freed = true; // its buffers are the result's now
      for (const sc of this.scopes) sc.delete(p);
    }
    if (!blocks.length) return this.alloc(shape, parts[0].dtype, 'tensor:stack');
    const t = new GpuTensor(blocks[0].buffer, shape, parts[0].dtype);
    if (blocks.length > 1) t.blocks = blocks;
    for (const sc of this.scopes) sc.add(t);
    return t;
  }

  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    checkShape(shape);
    return this.alloc(shape, dtype, 'tensor:empty');
  }

  write(t: Tensor, data: HostArray): void {
    planWrite(t, data, 'webgpu');
    if (!data.length) return;
    const blocks = (t as GpuTensor).blocks;
    if (!blocks) return this.upload(this.buf(t), data);
    const rowElems = t.size / t.shape[0];
    for (const b of blocks) this.upload(b.buffer, data.subarray(b.row0 * rowElems, (b.row0 + b.rows) * rowElems));
  }

  async read(t: Tensor): Promise<HostArray> {
    assertLive(t, 'read');
    if (t.backend !== 'webgpu') throw new OpInputError('read', `tensor lives on ${t.backend}`);
    if (t.size === 0) return hostArray(t.dtype, 0);
    if ((t as GpuTensor).blocks) {
      const out = hostArray(t.dtype, t.size);
      const rowElems = t.size / t.shape[0];
      for (const b of this.blocksOf(t)) {
        const n = b.rows * rowElems;
        const bytes = await this.runtime.read(b.buffer, 0, storageBytes(t.dtype, n));
        out.set(hostArray(t.dtype, bytes, n), b.row0 * rowElems);
      }
      return out;
    }
    const bytes = await this.runtime.read(this.buf(t), 0, storageBytes(t.dtype, t.size));
    const d = hostArray(t.dtype, bytes, t.size);
    return checkSamples(t, d);
  }

  reshape(t: Tensor, shape: readonly number[]): Tensor {
    planReshape(t, shape, 'webgpu');
    this.buf(t); // a split tensor keeps its shape
    const v = new GpuTensor(this.buf(t), [...shape], t.dtype);
    v.role = t.role;
    v.view = true;
    return v;
  }

  free(t: Tensor): void {
    const g = t as GpuTensor;
    if (g.freed || g.view) return;
    g.freed = true;
    for (const s of this.scopes) s.delete(g);
    for (const b of this.blocksOf(g)) this.runtime.pool.release(b.buffer);
  }

  flush(): Promise<void> {
    return this.runtime.flush();
  }

  matmul(a: Tensor, b: Tensor, o: MatmulOptions = {}): Tensor {
    const p = planMatmul(a, b, o, 'webgpu');
    const split = (b as GpuTensor).blocks;
    if (split && (!o.transB || p.bBatched)) this.buf(b); // row blocks of a (K, N) B would split the sum over k
    // one dispatch per row block of Bᵀ: its rows are columns [row0, row0 + rows) of C
    const blocks = split ?? [{ buffer: this.buf(b), row0: 0, rows: p.N }];
    const out = this.alloc(p.outShape, 'f32', 'matmul:out', o.out);
    if (p.batch * p.M * p.N === 0) return out;
    // a shared B lets the batch fold into M: (batch·M, K)·(K, N) fills 64-row tiles instead of
    // launching one mostly idle tile per batch element
    const batch = p.bBatched ? p.batch : 1;
    const M = p.bBatched ? p.M : p.batch * p.M;
    const path = this.pickMatmulPath(M, p.N, p.K);
    const blocked = path === 'blocked';
    const bias = o.bias ? this.buf(o.bias) : this.runtime.dummyBuffer;
    for (const blk of blocks) {
      const N = blk.rows;
      this.runtime.dispatch({
        kernel: 'matmul',
        entry: blocked ? 'matmul_blocked' : 'matmul',
        variant: this.weightVariant(b.dtype),
        label: `matmul:${path}`,
        constants: {
          TRANS_B: !!o.transB,
          B_BATCHED: p.bBatched,
          HAS_BIAS: !!o.bias,
          ACT: MATMUL_ACTIVATIONS[o.activation ?? 'none'],
          B_F16: b.dtype === 'f16',
        },
        params: this.pack(MATMUL_PARAMS, { M, N, K: p.K, ldc: p.N, col0: blk.row0 }),
        bindings: [this.buf(a), blk.buffer, bias, out.buffer],
        grid: blocked ? [Math.ceil(N / 32), Math.ceil(M / 32), batch] : [Math.ceil(N / 64), Math.ceil(M / 64), batch],
      });
    }
    return out;
  }

  /**
   * Row kernels (norms): a workgroup per row for long rows; for short rows (C ≤ 128) one invocation
   * per row, which avoids a barrier-heavy reduction per tiny row.
   */
  private rowKernel(kernel: string, rows: number, C: number, params: Packer, bindings: GPUBuffer[]): void {
    if (rows === 0 || C === 0) return;
    const perThread = C <= 128;
    const groups = perThread ? Math.ceil(rows / 64) : rows;
    this.dispatch1d(kernel, groups, { WG: perThread ? 64 : rowWG(C), PER_THREAD: perThread }, params, bindings);
  }

  /**
   * `groups` workgroups of WG invocations, the grid folded into 2-D past the x limit; `params` packs
   * the op's declared struct given the grid's groups_x.
   */
  private dispatch1d(
    kernel: string,
    groups: number,
    constants: Constants,
    params: Packer,
    bindings: GPUBuffer[],
    variant?: KernelVariant,
  ) {
    const { grid, groupsX } = grid1d(groups, this.maxGroups);
    const label = `${kernel}:dispatch`;
    this.runtime.dispatch({ kernel, variant, label, constants, params: params(groupsX), bindings, grid });
  }

  layerNorm(x: Tensor, gamma: Tensor, beta: Tensor, o: NormOptions = {}): Tensor {
    const { rows, C, eps } = planLayerNorm(x, gamma, beta, o, 'webgpu');
    const out = this.alloc(x.shape, 'f32', 'layer_norm:out', o.out);
    const params = (groupsX: number) => this.pack(LAYER_NORM_PARAMS, { rows, C, eps, groups_x: groupsX });
    this.rowKernel('layer_norm', rows, C, params, [this.buf(x), this.buf(gamma), this.buf(beta), out.buffer]);
    return out;
  }

  rmsNorm(x: Tensor, gamma: Tensor, o: NormOptions = {}): Tensor {
    const { rows, C, eps } = planRmsNorm(x, gamma, o, 'webgpu');
    const out = this.alloc(x.shape, 'f32', 'rms_norm:out', o.out);
    const params = (groupsX: number) => this.pack(RMS_NORM_PARAMS, { rows, C, eps, groups_x: groupsX });
    this.rowKernel('rms_norm', rows, C, params, [this.buf(x), this.buf(gamma), out.buffer]);
    return out;
  }

  softmax(x: Tensor, o: SoftmaxOptions & OutOption = {}): Tensor {
    const { rows, C } = planRows('softmax', x, 'webgpu');
    expectOut('softmax', o.out, x.shape, 'f32', 'webgpu');
    const out = this.alloc(x.shape, 'f32', 'softmax:out', o.out);
    if (rows === 0 || C === 0) return out;
    const params = (groupsX: number) => this.pack(SOFTMAX_PARAMS, { rows, C, groups_x: groupsX });
    this.dispatch1d('softmax', rows, { WG: rowWG(C), LOG: !!o.log }, params, [this.buf(x), out.buffer]);
    return out;
  }

  /** One invocation per element, 64 per workgroup. */
  private flat(
    kernel: string,
    n: number,
    params: Packer,
    bindings: GPUBuffer[],
    constants: Constants = {},
    variant?: KernelVariant,
  ): void {
    if (n > 0) this.dispatch1d(kernel, Math.ceil(n / 64), { WG: 64, ...constants }, params, bindings, variant);
  }

  embedding(ids: Tensor, table: Tensor, o: OutOption = {}): Tensor {
    const p = planEmbedding(ids, table, 'webgpu');
    expectOut('embedding', o.out, p.outShape, 'f32', 'webgpu');
    const out = this.alloc(p.outShape, 'f32', 'embedding:out', o.out);
    // one dispatch per row block of a split table, each writing the rows whose ids it holds
    for (const blk of this.blocksOf(table)) {
      this.flat(
        'embedding',
        p.N * p.C,
        (groupsX) =>
          this.pack(EMBEDDING_PARAMS, { N: p.N, C: p.C, V: p.V, groups_x: groupsX, row0: blk.row0, rows: blk.rows }),
        [this.buf(ids), blk.buffer, out.buffer],
        { TABLE_F16: table.dtype === 'f16' },
        this.weightVariant(table.dtype),
      );
    }
    return out;
  }

  kvWrite(cache: Tensor, src: Tensor, offsets: Tensor): void {
    const p = planKvWrite(cache, src, offsets, 'webgpu');
    this.flat(
      'kv_write',
      p.B * p.M * p.W,
      (groupsX) => this.pack(KV_WRITE_PARAMS, { B: p.B, M: p.M, S: p.S, W: p.W, groups_x: groupsX }),
      [this.buf(src), this.buf(offsets), this.buf(cache)],
    );
  }

  rope(x: Tensor, positions: Tensor, table: Tensor, o: OutOption = {}): Tensor {
    const p = planRope(x, positions, table, o, 'webgpu');
    const out = this.alloc(x.shape, 'f32', 'rope:out', o.out);
    this.flat(
      'rope',
      (p.tokens * p.H * p.D) / 2,
      (groupsX) => this.pack(ROPE_PARAMS, { BT: p.tokens, H: p.H, D: p.D, P: p.P, groups_x: groupsX }),
      [this.buf(x), this.buf(positions), this.buf(table), out.buffer],
    );
    return out;
  }

  attention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor, o: AttentionOptions = {}): Tensor {
    const p = planAttention(q, k, v, mask, o, 'webgpu');
    const out = this.alloc(q.shape, 'f32', 'attention:out', o.out);
    this.flat(
      'attention',
      p.B * p.Tq * p.H,
      (groupsX) => this.pack(ATTENTION_PARAMS, { ...p, groups_x: groupsX }),
      [this.buf(q), this.buf(k), this.buf(v), this.buf(mask), out.buffer],
      { MASK_BATCHED: p.maskBatched },
    );
    return out;
  }

  elementwise(op: ElementwiseOp, a: Tensor, b: Tensor | null, o: ElementwiseOptions = {}): Tensor {
    planElementwise(op, a, b, o, 'webgpu');
    const out = this.alloc(a.shape, 'f32', `elementwise:${op}`, o.out);
    this.flat(
      'elementwise',
      a.size,
      (groupsX) =>
        this.pack(ELEMENTWISE_PARAMS, { n: a.size, nb: b ? b.size : 1, s: o.scalar ?? 1, groups_x: groupsX }),
      [this.buf(a), b ? this.buf(b) : this.runtime.dummyBuffer, out.buffer],
      { OP: ELEMENTWISE_CODES[op] },
    );
    return out;
  }

  swiglu(x: Tensor, o: OutOption = {}): Tensor {
    const p = planSwiglu(x, o, 'webgpu');
    const out = this.alloc(p.outShape, 'f32', 'swiglu:out', o.out);
    this.flat(
      'swiglu',
      p.rows * p.F,
      (groupsX) => this.pack(SWIGLU_PARAMS, { rows: p.rows, F: p.F, groups_x: groupsX }),
      [this.buf(x), out.buffer],
    );
    return out;
  }

  rng(o: RngOptions): Tensor {
    const p = planRng(o, 'webgpu');
    const out = this.alloc(p.outShape, p.dtype, 'rng:out', o.out);
    this.flat(
      'rng',
      p.count,
      (groupsX) => this.pack(RNG_PARAMS, { count: p.count, groups_x: groupsX, key: p.key, stream: [...p.stream, 0] }),
      [out.buffer],
      { OUTPUT: RNG_OUTPUT_CODES[p.output], TAIL_SLICE: p.tailSlice },
    );
    return out;
  }

  conv2d(x: Tensor, w: Tensor, o: Conv2dOptions & OutOption = {}): Tensor {
    const p = planConv2d(x, w, o, 'webgpu');
    const out = this.alloc(p.outShape, 'f32', 'conv2d:out', o.out);
    this.flat(
      'conv2d',
      p.B * p.Ho * p.Wo * p.Cout,
      (groupsX) => this.pack(CONV2D_PARAMS, { ...p, groups_x: groupsX }),
      [this.buf(x), this.buf(w), o.bias ? this.buf(o.bias) : this.runtime.dummyBuffer, out.buffer],
      { HAS_BIAS: !!o.bias, ACT: ACTIVATION_CODES[p.activation] },
    );
    return out;
  }

  pool2d(x: Tensor, o: Pool2dOptions & OutOption): Tensor {
    const p = planPool2d(x, o, 'webgpu');
    expectOut('pool2d', o.out, p.outShape, 'f32', 'webgpu');
    const out = this.alloc(p.outShape, 'f32', 'pool2d:out', o.out);
    this.flat(
      'pool2d',
      p.B * p.Ho * p.Wo * p.C,
      (groupsX) => this.pack(POOL2D_PARAMS, { ...p, groups_x: groupsX }),
      [this.buf(x), out.buffer],
      { KIND: POOL2D_KINDS[p.kind] },
    );
    return out;
  }

  private patchOp(
    t: Tensor,
    o: { p: number; H?: number; W?: number; C?: number } & OutOption,
    inverse: boolean,
  ): Tensor {
    const s = planPatch(t, o, inverse, 'webgpu');
    const op = inverse ? 'unpatchify' : 'patchify';
    expectOut(op, o.out, s.outShape, 'f32', 'webgpu');
    const out = this.alloc(s.outShape, 'f32', `${op}:out`, o.out);
    this.flat(
      'patchify',
      s.B * s.H * s.W * s.C,
      (groupsX) => this.pack(PATCHIFY_PARAMS, { B: s.B, H: s.H, W: s.W, C: s.C, p: s.p, groups_x: groupsX }),
      [this.buf(t), out.buffer],
      { PATCHIFY: !inverse },
    );
    return out;
  }

  patchify(x: Tensor, p: number, o: OutOption = {}): Tensor {
    return this.patchOp(x, { ...o, p }, false);
  }
  unpatchify(t: Tensor, o: UnpatchifyOptions & OutOption): Tensor {
    return this.patchOp(t, o, true);
  }

  private modulateOp(
    op: 'modulate' | 'gatedAdd',
    a: Tensor,
    r: Tensor | null,
    u: Tensor,
    v: Tensor | null,
    o: OutOption,
  ): Tensor {
    const { T, C } = planModulate(op, a, r, u, v, 'webgpu');
    expectOut(op, o.out, a.shape, 'f32', 'webgpu');
    const out = this.alloc(a.shape, 'f32', `${op}:out`, o.out);
    const d = this.runtime.dummyBuffer;
    this.flat(
      'modulate',
      a.size,
      (groupsX) => this.pack(MODULATE_PARAMS, { n: a.size, TC: T * C, C, groups_x: groupsX }),
      [this.buf(a), r ? this.buf(r) : d, this.buf(u), v ? this.buf(v) : d, out.buffer],
      { MODE: MODULATE_MODES[op] },
    );
    return out;
  }

  modulate(x: Tensor, shift: Tensor, scale: Tensor, o: OutOption = {}): Tensor {
    return this.modulateOp('modulate', x, null, shift, scale, o);
  }
  gatedAdd(res: Tensor, y: Tensor, gate: Tensor, o: OutOption = {}): Tensor {
    return this.modulateOp('gatedAdd', res, y, gate, null, o);
  }

  diffusionStep(x: Tensor, eps: Tensor, o: DiffusionStepOptions): void {
    const { n, cfg } = planDiffusionStep(x, eps, o, 'webgpu');
    const key = seedToKey(o.seed);
    this.flat(
      'diffusion_step',
      n,
      (groupsX) =>
        this.pack(DIFFUSION_STEP_PARAMS, {
          n,
          groups_x: groupsX,
          key: [key[0], key[1]],
          step: o.step,
          w: o.guidance ?? 0,
          s0: o.s0,
          s1: o.s1,
          c_x0: o.cX0,
          c_x: o.cX,
          c_e: o.cE,
          sigma: o.sigma,
        }),
      [
        this.buf(x),
        this.buf(eps),
        this.buf(o.out),
        this.buf(o.x0Out),
        o.dupOut ? this.buf(o.dupOut) : this.runtime.dummyBuffer,
      ],
      { CFG: cfg, CLIP: o.clip, DUP: !!o.dupOut },
    );
  }

  specVerify(logits: Tensor, drafts: Tensor, counts: Tensor, o: SpecVerifyOptions): Tensor {
    const p = planSpecVerify(logits, drafts, counts, o, 'webgpu');
    const key = seedToKey(o.seed);
    const out = this.alloc(p.outShape, 'u32', 'spec_verify:out', o.out);
    out.role = 'samples';
    this.flat(
      'spec_verify',
      p.B,
      (groupsX) =>
        this.pack(SPEC_VERIFY_PARAMS, {
          B: p.B,
          K: p.K,
          V: p.V,
          top_k: p.topK,
          temperature: p.temperature,
          top_p: p.topP,
          groups_x: groupsX,
          counter: o.counter,
          key,
          streams: o.streams ? 1 : 0,
        }),
      // without streams the logits stand in for the unread binding
      [this.buf(logits), this.buf(drafts), this.buf(counts), out.buffer, this.buf(o.streams ?? logits)],
      { RESIDUAL: o.residual ?? true },
    );
    return out;
  }

  categorical(logits: Tensor, o: SampleOptions): Tensor {
    const p = planCategorical(logits, o, 'webgpu');
    const out = this.alloc([p.rows], 'u32', 'categorical:out', o.out);
    out.role = 'samples';
    const params = (groupsX: number) =>
      this.pack(CATEGORICAL_PARAMS, {
        rows: p.rows,
        V: p.V,
        top_k: p.topK,
        groups_x: groupsX,
        temperature: p.temperature,
        top_p: p.topP,
        key: p.key,
        counter: p.counter,
        streams: o.streams ? 1 : 0,
      });
    const constants = { WG: sampleWG(p.V), PRECISION: PRECISION_CODES[p.precision] };
    // without streams the logits stand in for the unread binding
    const bindings = [this.buf(logits), out.buffer, this.buf(o.streams ?? logits)];
    this.dispatch1d('categorical', p.rows, constants, params, bindings);
    return out;
  }

  stats(): { buffersCreated: number; pool: ReturnType<GpuRuntime['pool']['stats']> } {
    return { buffersCreated: this.runtime.buffersCreated, pool: this.runtime.pool.stats() };
  }

  destroy(): void {
    this.runtime.destroy();
  }
}
