// Limits in any order, at any size (issue 23). A limits cap (the simulator: WebGPU never grants limits
// below the spec defaults) makes the refusal and splitting paths reachable at small sizes on any driver:
// - a capped binding / buffer size is what the pool refuses with, named;
// - a capped workgroups-per-dimension splits a flat op's grid over x and y (result equal to the twin)
//   and refuses a grid it cannot split;
// - fast-check drives batch and length across [1, 2^31] through FHS sampling, one-pass MaM scores
//   and DDIM sampling on the capped GPU backend and on a CPU backend with the same budget: every
//   outcome is a result or a typed SamplescopeError — never a RangeError, an out-of-memory or a stack
//   overflow (a batch of 174,763 rows once overflowed the stack through Math.max(...rows)).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../../src/backend/backend.js';
import { CpuBackend } from '../../src/backend/cpu.js';
import { createBackend } from '../../src/backend/create.js';
import type { WebGPUBackend } from '../../src/backend/webgpu.js';
import { LimitExceededError, SamplescopeError } from '../../src/errors.js';
import { loadModel } from '../../src/models/index.js';
import { randomDenoiser } from '../../src/models/random.js';
import { sampleDiffusion } from '../../src/samplers/diffusion.js';
import { logMarginals } from '../../src/samplers/mam.js';
import { sampleMdm } from '../../src/samplers/mdm.js';
import { cpu, expectClose, randomF32, SECOND_DRIVER } from '../util/gpu.js';
import { FIXTURES } from '../util/models.js';

const MiB = 1 << 20;
const capped = (limitsCap: Record<string, number>) =>
  createBackend({ prefer: 'webgpu', limitsCap }) as Promise<WebGPUBackend>;

describe('limits cap (simulator)', () => {
  it('the pool refuses with the capped limit, whichever binds', async () => {
    const a = await capped({ maxStorageBufferBindingSize: MiB });
    expect(a.maxTensor).toEqual({ bytes: MiB, limit: 'maxStorageBufferBindingSize' });
    expect(a.empty([MiB / 4]).size).toBe(MiB / 4);
    const e1 = (() => {
      try {
        a.empty([MiB / 4 + 1]);
      } catch (e) {
        return e;
      }
    })() as LimitExceededError;
    expect([e1 instanceof LimitExceededError, e1.limit, e1.available]).toEqual([
      true,
      'maxStorageBufferBindingSize',
      MiB,
    ]);
    const b = await capped({ maxBufferSize: 64 * 1024, maxStorageBufferBindingSize: MiB });
    const e2 = (() => {
      try {
        b.empty([16 * 1024 + 1]);
      } catch (e) {
        return e;
      }
    })() as LimitExceededError;
    expect([e2 instanceof LimitExceededError, e2.limit, e2.available]).toEqual([true, 'maxBufferSize', 64 * 1024]);
  });

  it('a capped grid dimension splits over x and y, and refuses what it cannot split', async () => {
    const be = await capped({ maxComputeWorkgroupsPerDimension: 4 });
    const n = 64 * 4 * 3 + 17; // 13 workgroups of 64 > 4 per dimension: a (4, 4) grid
    const x = randomF32(n, 3, 4);
    expectClose(
      await be.read(be.gelu(be.tensor(x, [n]))),
      await cpu.read(cpu.gelu(cpu.tensor(x, [n]))),
      1e-6,
      1e-5,
      'split gelu',
    );
    const big = 64 * 4 * 4 + 1; // 17 workgroups: more than 4 × 4
    const err = (() => {
      try {
        be.gelu(be.tensor(new Float32Array(big), [big]));
      } catch (e) {
        return e;
      }
    })() as LimitExceededError;
    expect(err).toBeInstanceOf(LimitExceededError);
    expect(err.limit).toBe('maxComputeWorkgroupsPerDimension');
  });
});

describe('any request size: a result or a typed error', () => {
  // host-side (no spread of per-row arrays): run on the first driver only (SECOND_DRIVER)
  it.skipIf(SECOND_DRIVER)(
    'a batch past the JS argument limit samples (200,000 rows: no spread of per-row arrays)',
    async () => {
      const be = await capped({});
      const model = await loadModel(FIXTURES + 'tiny-bidir', be);
      const r = await sampleMdm(model, { batch: 200_000, length: 1, seed: 1, sampler: 'fhs' });
      expect(r.samples.length).toBe(200_000);
      expect(r.nfe).toBe(1);
      model.dispose();
    },
    600_000,
  );

  const size = fc.oneof(
    fc.integer({ min: 1, max: 16 }),
    fc.integer({ min: 1, max: 2 ** 31 }),
    fc.constantFrom(2 ** 20, 2 ** 20 + 1, 2 ** 31),
  );
  const outcome = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
      return 'ok';
    } catch (e) {
      if (e instanceof SamplescopeError) return e.name;
      throw e; // a RangeError, an out-of-memory, anything untyped fails the property
    }
  };

  for (const which of ['webgpu', 'cpu'] as const) {
    it(`${which}: FHS sampling, MaM scores and DDIM sampling at batch, length in [1, 2^31]`, async () => {
      const be: Backend =
        which === 'webgpu'
          ? await capped({ maxStorageBufferBindingSize: MiB, maxBufferSize: MiB })
          : new CpuBackend(undefined, { maxTensorBytes: MiB });
      const model = await loadModel(FIXTURES + 'tiny-bidir', be);
      const dit = randomDenoiser({ imageSize: 8, patch: 4, d: 16 }, be);
      const seen = new Set<string>();
      await fc.assert(
        fc.asyncProperty(size, size, async (batch, length) => {
          seen.add(await outcome(() => sampleMdm(model, { batch, length, seed: 1, sampler: 'fhs' })));
          // the caller's token array: as large as asked where a caller could hold it, else empty (a mismatch)
          seen.add(
            await outcome(() =>
              logMarginals(model, new Uint32Array(batch * length <= 2 ** 22 ? batch * length : 0), batch, length),
            ),
          );
          seen.add(
            await outcome(() => sampleDiffusion(dit, { batch, seed: 1, sampler: 'ddim', steps: Math.min(length, 3) })),
          );
        }),
        {
          numRuns: 12,
          seed: 23,
          examples: [
            [2, 4],
            [100_000, 12],
            [3, 2 ** 31],
          ],
        },
      );
      // the property saw both sides: results, the size refusal and the range refusal
      expect([...seen].sort()).toEqual(expect.arrayContaining(['LimitExceededError', 'SamplerConfigError', 'ok']));
      model.dispose();
    }, 600_000);
  }
});
