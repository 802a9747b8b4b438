export { chiSquare, gammaQ } from './chi2.js';
export { prdc, pairwiseSq, knnRadiiSq, type Prdc, type FeatureSet } from './prdc.js';
export { vendiScore, symmetricEigenvalues, vendiFromEigenvalues } from './vendi.js';
export { tokenEntropy, distinctN } from './text.js';
export { nllLeftToRight, logProbsLeftToRight, classConsistency } from './nll.js';
export {
  spearman,
  rocAuc,
  mamCalibration,
  type MamCalibration,
  type MamCalibrationOptions,
} from './mam-calibration.js';
export { paretoFront, paretoFronts, dominates } from './pareto.js';
