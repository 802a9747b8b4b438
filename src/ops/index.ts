/**
 * Op contracts: each op's options, validation and shape plan, kernel codes and uniform struct in one
 * file (src/ops/<op>.ts), so the backends (src/backend/webgpu.ts, cpu.ts) only dispatch. Converted so
 * far: diffusion_step, modulate, softmax; the other ops still keep theirs in src/backend/shapes.ts and
 * pack their params by position in webgpu.ts (issue 15, step 4).
 */
import { DIFFUSION_STEP_PARAMS } from './diffusion_step.js';
import { MODULATE_PARAMS } from './modulate.js';
import { SOFTMAX_PARAMS } from './softmax.js';

/** every declared uniform struct (the layout test checks each against its kernel) */
export const PARAMS_STRUCTS = [DIFFUSION_STEP_PARAMS, MODULATE_PARAMS, SOFTMAX_PARAMS] as const;
