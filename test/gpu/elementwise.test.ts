// elementwise kernel vs twin: add/mul/scale are exact (one f32 rounding on both sides) up to
// subnormal results, which WGSL lets a GPU flush to zero (atol 2e-38); GELU within
// atol 1e-6 + rtol 1e-5 (tanh implementations differ in the last bits), SiLU likewise (exp);
// ReLU exact; the same tolerances in the tails (|x| up to 1e30, where a naive sigmoid or tanh
// overflows). softplus within atol 1e-6 + rtol 1e-5: its log is of 1 + e^(−|x|) ∈ (1, 2], where the WGSL
// spec bounds log's error by 2^-21 ≈ 4.8e-7 absolute (and f32 rounds the term to 0 below e^(−|x|) ≈ 6e-8). Broadcast by
// repetition. gelu_erf (exact GELU; the kernel's erf is A&S 7.1.26, |ε| ≤ 1.5e-7, so |Δ| ≤ 0.5·|x|·1.5e-7 ≲
// 5e-7 for |x| ≤ 6) within atol 1e-6 + rtol 1e-5, and the f64 erf twin against tabulated values to 1e-12.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { cpu, expectClose, gpuBackend, randomF32 } from '../util/gpu.js';
import { OpInputError } from '../../src/errors.js';
import { erf } from '../../src/reference/elementwise.js';

describe('elementwise (webgpu vs twin)', () => {
  it('matches for add, mul, scale, gelu, relu, silu, softplus, gelu_erf', async () => {
    const gpu = await gpuBackend();
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          rows: fc.integer({ min: 1, max: 50 }),
          C: fc.integer({ min: 1, max: 300 }),
          bcast: fc.boolean(),
          op: fc.constantFrom('add', 'mul', 'scale', 'gelu', 'relu', 'silu', 'softplus', 'gelu_erf'),
          seed: fc.nat(),
          s: fc.double({ min: -3, max: 3, noNaN: true }),
        }),
        async ({ rows, C, bcast, op, seed, s }) => {
          const a = randomF32(rows * C, seed, 6);
          const b = randomF32(bcast ? C : rows * C, seed + 1);
          const bShape = bcast ? [C] : [rows, C];
          const run = async (be: typeof cpu) => {
            const ta = be.tensor(a, [rows, C]),
              tb = be.tensor(b, bShape);
            const t =
              op === 'add'
                ? be.add(ta, tb)
                : op === 'mul'
                  ? be.mul(ta, tb)
                  : op === 'scale'
                    ? be.scale(ta, s)
                    : op === 'gelu'
                      ? be.gelu(ta)
                      : op === 'relu'
                        ? be.relu(ta)
                        : op === 'silu'
                          ? be.silu(ta)
                          : op === 'gelu_erf'
                            ? be.elementwise('gelu_erf', ta, null)
                            : be.softplus(ta);
            return be.read(t);
          };
          const tol = ['gelu', 'silu', 'softplus', 'gelu_erf'].includes(op) ? [1e-6, 1e-5] : [2e-38, 0];
          expectClose(await run(gpu), await run(cpu), tol[0], tol[1], op);
        },
      ),
      { numRuns: 20, seed: 17 },
    );
  });

  it('gelu, relu, silu and softplus stay finite and match the twin in the tails', async () => {
    const gpu = await gpuBackend();
    const x = Float32Array.from([-1e30, -3e4, -100, -20, -1e-30, 0, 1e-30, 20, 100, 3e4, 1e30]);
    for (const op of ['gelu', 'relu', 'silu', 'softplus'] as const) {
      const got = await gpu.read(gpu[op](gpu.tensor(x, [x.length])));
      expect(Array.from(got).every(Number.isFinite), `${op} is finite`).toBe(true);
      expectClose(got, await cpu.read(cpu[op](cpu.tensor(x, [x.length]))), 1e-6, 1e-5, `${op} tails`);
    }
    const got = await gpu.read(gpu.elementwise('gelu_erf', gpu.tensor(x, [x.length]), null));
    expect(Array.from(got).every(Number.isFinite), 'gelu_erf is finite').toBe(true);
    const want = await cpu.read(cpu.elementwise('gelu_erf', cpu.tensor(x, [x.length]), null));
    expectClose(got, want, 1e-6, 1e-5, 'gelu_erf tails');
  });

  it('the erf twin matches tabulated values (Abramowitz & Stegun table 7.1) to 1e-12', () => {
    const table: [number, number][] = [
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [1.5, 0.9661051464753108],
      [2.4, 0.9993114861033549],
      [2.6, 0.9997639655834707],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
    ];
    for (const [x, e] of table) {
      expect(Math.abs(erf(x) - e), `erf(${x})`).toBeLessThan(1e-12);
      expect(Math.abs(erf(-x) + e), `erf(${-x})`).toBeLessThan(1e-12);
    }
  });

  it('rejects a b that does not divide a', async () => {
    const gpu = await gpuBackend();
    expect(() => gpu.add(gpu.tensor(randomF32(6, 1), [6]), gpu.tensor(randomF32(4, 1), [4]))).toThrow(OpInputError);
    expect(() => gpu.scale(gpu.tensor(randomF32(6, 1), [6]), NaN)).toThrow(OpInputError);
  });
});
