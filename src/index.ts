/** samplescope — sample generative models in the browser on WebGPU. */
export * from './errors.js';
export type { Backend, BackendInfo, OutOption } from './backend/backend.js';
export type { Tensor, DType, HostArray, BackendName } from './backend/tensor.js';
export type {
  Conv2dOptions,
  MatmulOptions,
  Pool2dOptions,
  RngOptions,
  SampleOptions,
  UnpatchifyOptions,
} from './backend/shapes.js';
export type { DiffusionStepOptions } from './ops/diffusion_step.js';
export type { SoftmaxOptions } from './ops/softmax.js';
export type { Activation, ElementwiseOp } from './reference/elementwise.js';
export { createBackend, type CreateBackendOptions } from './backend/create.js';
export { CpuBackend } from './backend/cpu.js';
export { WebGPUBackend } from './backend/webgpu.js';
export { acquireDevice, getGPU, checkLimits, type AdapterSummary, type GpuContext } from './gpu/device.js';
export { GpuRuntime } from './gpu/runtime.js';
export { ropeTable } from './reference/rope.js';
export { philox4x32, seedToKey } from './reference/rng.js';
export type { Precision } from './reference/categorical.js';
export * from './models/index.js';
export * from './samplers/index.js';
export { randomModel, randomDenoiser, type RandomModelSpec } from './models/random.js';
export * from './metrics/index.js';
