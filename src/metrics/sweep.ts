// Moved to src/sweep/ (issue 15, step 5). This forwarding module stays only while src/cli/main.ts
// (being moved onto the Engine on another branch) still imports it; delete it with that import.
export * from '../sweep/spec.js';
export * from '../sweep/records.js';
