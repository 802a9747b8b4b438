export { sampleMdm, type MdmOptions, type MdmResult } from './mdm.js';
export { sampleAsarm, type AsarmOptions, type AsarmResult } from './asarm.js';
export { sampleSpeculative, type SpeculativeOptions, type SpeculativeResult } from './speculative.js';
export { CachedDecoder } from './decoder.js';
export { logMarginals, sampleMam, selfConsistency, type MamSampleOptions, type SelfConsistencyReport } from './mam.js';
export type { CommonOptions, DrawKnobs, SampleResult, StepProgress } from './common.js';
export {
  sampleDiffusion,
  timestepGrid,
  consistencyGrid,
  stepCoefficients,
  type DiffusionOptions,
  type DiffusionProgress,
  type DiffusionResult,
  type StepCoefficients,
} from './diffusion.js';
