/**
 * Op contracts: each op's options, validation and shape plan, kernel codes and uniform struct in one
 * file (src/ops/<op>.ts), so the backends (src/backend/webgpu.ts, cpu.ts) only dispatch.
 */
import { ATTENTION_PARAMS } from './attention.js';
import { CATEGORICAL_PARAMS } from './categorical.js';
import { CONV2D_PARAMS } from './conv2d.js';
import { DIFFUSION_STEP_PARAMS } from './diffusion_step.js';
import { ELEMENTWISE_PARAMS } from './elementwise.js';
import { EMBEDDING_PARAMS } from './embedding.js';
import { KV_WRITE_PARAMS } from './kv_write.js';
import { LAYER_NORM_PARAMS } from './layer_norm.js';
import { MATMUL_PARAMS } from './matmul.js';
import { MODULATE_PARAMS } from './modulate.js';
import { PATCHIFY_PARAMS } from './patchify.js';
import { POOL2D_PARAMS } from './pool2d.js';
import { RMS_NORM_PARAMS } from './rms_norm.js';
import { RNG_PARAMS } from './rng.js';
import { ROPE_PARAMS } from './rope.js';
import { SOFTMAX_PARAMS } from './softmax.js';
import { SPEC_VERIFY_PARAMS } from './spec_verify.js';
import { SWIGLU_PARAMS } from './swiglu.js';

/** every declared uniform struct (the layout test checks each against its kernel) */
export const PARAMS_STRUCTS = [
  ATTENTION_PARAMS,
  CATEGORICAL_PARAMS,
  CONV2D_PARAMS,
  DIFFUSION_STEP_PARAMS,
  ELEMENTWISE_PARAMS,
  EMBEDDING_PARAMS,
  KV_WRITE_PARAMS,
  LAYER_NORM_PARAMS,
  MATMUL_PARAMS,
  MODULATE_PARAMS,
  PATCHIFY_PARAMS,
  POOL2D_PARAMS,
  RMS_NORM_PARAMS,
  RNG_PARAMS,
  ROPE_PARAMS,
  SOFTMAX_PARAMS,
  SPEC_VERIFY_PARAMS,
  SWIGLU_PARAMS,
] as const;
