/**
 * Per-dispatch profile of one model forward on the WebGPU backend, without timestamp queries (which
 * software adapters such as SwiftShader do not offer): the dispatches of one forward are recorded,
 * then each distinct dispatch (kernel, specialisation, grid, parameters) is replayed `reps` times in
 * one compute pass and timed with queue.onSubmittedWorkDone, less the time of an empty submit.
 * Used by `npm run bench -- --profile` (Node and the Chromium page).
 */
import type { WebGPUBackend } from '../src/backend/webgpu.js';
import type { DispatchSpec } from '../src/gpu/runtime.js';

export interface ProfileRow {
  kernel: string;
  label: string;
  constants: string;
  grid: string;
  /** dispatches of this kind in one forward */
  count: number;
  /** ms per dispatch (median of 3 replays of `reps`) */
  ms: number;
}

export interface Profile {
  rows: ProfileRow[];
  dispatches: number;
  /** one forward incl. upload + readback, ms (median of 5) */
  forwardMs: number;
  /** sum over rows of count · ms */
  kernelMs: number;
  /** an empty submit + onSubmittedWorkDone, ms */
  submitMs: number;
}

const median = (a: number[]): number => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];

export async function profileForward(be: WebGPUBackend, run: () => Promise<unknown>, reps = 10): Promise<Profile> {
  const rt = be.runtime;
  const device = rt.device;
  await run(); // compile
  const fwd: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    await run();
    fwd.push(performance.now() - t0);
  }
  const specs: DispatchSpec[] = [];
  const orig = rt.dispatch.bind(rt);
  rt.dispatch = (s: DispatchSpec) => {
    specs.push({
      ...s,
      params: new Uint8Array(new Uint8Array(s.params.buffer, s.params.byteOffset, s.params.byteLength)),
      bindings: [...s.bindings],
    });
    orig(s);
  };
  try {
    await run();
  } finally {
    rt.dispatch = orig;
  }
  const key = (s: DispatchSpec) =>
    `${s.kernel}|${JSON.stringify(s.constants ?? {})}|${s.grid.join('x')}|${Array.from(s.params as Uint8Array).join(',')}`;
  const groups = new Map<string, { spec: DispatchSpec; count: number }>();
  for (const s of specs) {
    const g = groups.get(key(s));
    if (g) g.count++;
    else groups.set(key(s), { spec: s, count: 1 });
  }
  const timeSubmit = async (n: number, spec?: DispatchSpec): Promise<number> => {
    await rt.flush();
    const t0 = performance.now();
    if (spec) for (let i = 0; i < n; i++) orig(spec);
    rt.submit();
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  const empty: number[] = [];
  for (let i = 0; i < 5; i++) empty.push(await timeSubmit(0));
  const submitMs = median(empty);
  const rows: ProfileRow[] = [];
  for (const { spec, count } of groups.values()) {
    const t: number[] = [];
    for (let i = 0; i < 3; i++) t.push(await timeSubmit(reps, spec));
    rows.push({
      kernel: spec.kernel,
      label: spec.label,
      constants: JSON.stringify(spec.constants ?? {}),
      grid: spec.grid.join('×'),
      count,
      ms: Math.max(0, (median(t) - submitMs) / reps),
    });
  }
  await rt.flush();
  rows.sort((a, b) => b.count * b.ms - a.count * a.ms);
  return {
    rows,
    dispatches: specs.length,
    forwardMs: median(fwd),
    kernelMs: rows.reduce((s, r) => s + r.count * r.ms, 0),
    submitMs,
  };
}

export function profileTable(title: string, p: Profile): string {
  const f = (x: number) => (x >= 10 ? x.toFixed(1) : x.toPrecision(3));
  const lines = [
    `### ${title}`,
    '',
    `forward ${f(p.forwardMs)} ms (upload + ${p.dispatches} dispatches + readback); kernels, replayed: ${f(p.kernelMs)} ms; empty submit ${f(p.submitMs)} ms`,
    '',
    '| dispatch | specialisation | grid | count | ms each | ms total | share |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of p.rows)
    lines.push(
      `| ${r.label} | ${r.constants} | ${r.grid} | ${r.count} | ${f(r.ms)} | ${f(r.ms * r.count)} | ${((100 * r.ms * r.count) / p.kernelMs).toFixed(0)}% |`,
    );
  return lines.join('\n');
}
