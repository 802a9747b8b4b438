// The "one op, one name" convention, checked: every shaders/<op>.wgsl has its entry point named after
// the op, a header (what, dispatch grid, workgroup size, twin), a shape comment on every binding,
// a CPU twin at src/reference/<op>.ts and a GPU test at test/gpu/<op>.test.ts; every helper a kernel
// requires exists.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const kernels = readdirSync(new URL('shaders/', root)).filter((f) => f.endsWith('.wgsl')).map((f) => f.slice(0, -5));

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
    for (const lib of req ? req[1].split(',').map((s) => s.trim()) : []) {
      expect(existsSync(new URL(`shaders/lib/${lib}.wgsl`, root)), `lib ${lib}`).toBe(true);
    }
    expect(existsSync(new URL(`src/reference/${op}.ts`, root)), 'twin').toBe(true);
    expect(existsSync(new URL(`test/gpu/${op}.test.ts`, root)), 'gpu test').toBe(true);
  });
});
