// The "one op, one name" convention, checked: every shaders/<op>.wgsl has its entry point named after
// the op, a header (what, dispatch grid, workgroup size, twin), a shape comment on every binding,
// a CPU twin at src/reference/<op>.ts and a GPU test at test/gpu/<op>.test.ts; every helper a kernel
// requires exists (each choice of a variant slot).
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VARIANT_LIBS } from '../../src/gpu/kernels.js';

const root = new URL('../../', import.meta.url);
const kernels = readdirSync(new URL('shaders/', root))
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => f.slice(0, -5));

describe('kernel layout', () => {
  it('there are kernels', () => expect(kernels.length).toBeGreaterThanOrEqual(10));

  it.each(kernels)('%s follows the conventions', (op) => {
    const src = readFileSync(new URL(`shaders/${op}.wgsl`, root), 'utf8');
    expect(src.startsWith(`// ${op} — `), 'header starts with "// <op> — "').toBe(true);
    expect(src).toMatch(/Dispatch:/);
    expect(src).toMatch(/workgroup size/i);
    expect(src).toContain(`src/reference/${op}.ts`);
    expect(src).toMatch(new RegExp(`@compute @workgroup_size\\([^)]*\\)\\s*\\nfn ${op}\\(`));
    for (const line of src.split('\n').filter((l) => l.startsWith('@group('))) {
      expect(line, line).toMatch(/\/\/ \(.*\)/);
    }
    const req = /^\/\/ requires:(.*)$/m.exec(src);
    for (const name of req ? req[1].split(',').map((s) => s.trim()) : []) {
      // a variant slot (src/gpu/kernels.ts) stands for one lib per choice: each must exist
      const libs = name in VARIANT_LIBS ? Object.values(VARIANT_LIBS[name as keyof typeof VARIANT_LIBS]) : [name];
      for (const lib of libs) expect(existsSync(new URL(`shaders/lib/${lib}.wgsl`, root)), `lib ${lib}`).toBe(true);
    }
    expect(existsSync(new URL(`src/reference/${op}.ts`, root)), 'twin').toBe(true);
    expect(existsSync(new URL(`test/gpu/${op}.test.ts`, root)), 'gpu test').toBe(true);
  });
});

// The worker boundary, checked: src/ui/ talks to the engine only through the protocol (its types and
// the client built from its method table). Its direct imports stay within ui, the protocol, errors and
// the pure data modules the elements derive from (the knob registry, the sweep spec and records);
// and what it loads at run time (type-only imports are erased) never reaches the engine, the models,
// the samplers, the backends or the GPU — except three leaf modules the protocol re-exports on purpose.
const src = new URL('src/', root);
const IMPORT = /^\s*(import|export)\s+(type\s+)?([^'";]*?)\s*from\s*'([^']+)'/gm;

/** A module's relative imports: target path (relative to src/) and whether they load at run time. */
function importsOf(file: string): { target: string; runtime: boolean }[] {
  const text = readFileSync(new URL(file, src), 'utf8');
  const dir = file.includes('/') ? file.slice(0, file.lastIndexOf('/') + 1) : '';
  const out: { target: string; runtime: boolean }[] = [];
  for (const m of text.matchAll(IMPORT)) {
    if (!m[4].startsWith('.')) continue;
    const target = new URL(m[4].replace(/\.js$/, '.ts'), new URL(dir, src)).pathname.slice(src.pathname.length);
    const names = m[3]
      .replace(/^\{|\}$/g, '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const typeOnly = !!m[2] || (names.length > 0 && m[3].startsWith('{') && names.every((n) => n.startsWith('type ')));
    out.push({ target, runtime: !typeOnly });
  }
  return out;
}

describe('ui layout', () => {
  const ui = readdirSync(new URL('ui/', src))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => `ui/${f}`);
  const allowed = (t: string) =>
    t.startsWith('ui/') ||
    t.startsWith('knobs/') ||
    ['worker/protocol.ts', 'worker/client.ts', 'errors.ts', 'sweep/spec.ts', 'sweep/records.ts'].includes(t);

  it('the import scanner sees imports, type-only ones and re-exports', () => {
    const mine = importsOf('worker/protocol.ts');
    expect(mine).toContainEqual({ target: 'errors.ts', runtime: true });
    expect(mine).toContainEqual({ target: 'backend/backend.ts', runtime: false });
    expect(mine).toContainEqual({ target: 'samplers/draft-marks.ts', runtime: true });
  });

  it.each(ui)('%s imports only ui, the protocol, errors, knobs and the sweep format', (file) => {
    const bad = importsOf(file)
      .map((i) => i.target)
      .filter((t) => !allowed(t));
    expect(bad).toEqual([]);
  });

  it('what src/ui/ loads at run time never reaches the engine, models, samplers, backends or GPU', () => {
    const leaves = new Set(['models/origin.ts', 'samplers/draft-marks.ts', 'models/tokenizer.ts']);
    const forbidden = (t: string) =>
      !leaves.has(t) && (/^(gpu|backend|models|samplers|reference)\//.test(t) || t === 'worker/engine.ts');
    const seen = new Set<string>();
    const todo = [...ui];
    while (todo.length) {
      const f = todo.pop()!;
      if (seen.has(f)) continue;
      seen.add(f);
      for (const i of importsOf(f)) if (i.runtime) todo.push(i.target);
    }
    expect(seen.has('worker/protocol.ts')).toBe(true);
    expect([...seen].filter(forbidden)).toEqual([]);
  });
});

describe('import graph', () => {
  it('has no circle in src/ (type-only imports included)', () => {
    const files = (readdirSync(src, { recursive: true }) as string[])
      .filter((f) => f.endsWith('.ts'))
      .map((f) => f.replaceAll('\\', '/'));
    const state = new Map<string, 'open' | 'done'>();
    const circles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        circles.push([...path.slice(path.indexOf(f)), f].join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const i of existsSync(new URL(f, src)) ? importsOf(f) : []) visit(i.target, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of files) visit(f, []);
    expect(files.length).toBeGreaterThan(50);
    expect(circles).toEqual([]);
  });
});
