/**
 * The UI elements, registered on import: `<sample-scope>` (sample a text or image model live),
 * `<mam-scorer>` (log-likelihood of partial text), `<ising-grid>` (partial Ising configurations) and
 * `<pareto-explorer>` (knob sweeps in the worker, their Pareto fronts plotted).
 * `npm run build:element` bundles this module, the engine worker and the kernels into
 * dist/element/sample-scope.js: one `<script type="module">` import.
 */
export { SampleScope, type SampleDoneDetail, type ScopeState } from './sample-scope.js';
export { MamScorer, tokenizePartial, type ScoreLine } from './mam-scorer.js';
export { IsingGrid, isingExactLogp } from './ising-grid.js';
export { ParetoExplorer, type ExplorerState } from './pareto-explorer.js';
export { YourModel, filesByPath } from './your-model.js';
export { resolveModelUrl } from './engine-host.js';
