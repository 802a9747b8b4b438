// ASSD's per-round draft marks (StepProgress.drafts, drawn by the <sample-scope> element): on a
// random two-stream toy (length 10, draft 4, 64 rows) every round's marks must agree with what the
// tokens did — one EXACT per row still generating, at most one REJECTED, a REJECTED or BONUS ending
// every round that verified drafts, marked positions decided and DISCARDED ones back to [MASK]; the
// ACCEPTED marks over all rounds sum to the result's `accepted` and REJECTED to proposed − accepted.
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../../src/backend/cpu.js';
import { randomModel } from '../../src/models/random.js';
import { DRAFT_MARK, sampleAsarm } from '../../src/samplers/asarm.js';
import type { StepProgress } from '../../src/samplers/common.js';

const cpu = new CpuBackend();
const L = 10,
  B = 64,
  K = 4;
const model = randomModel(
  { vocab: 5, length: L, dModel: 8, heads: 2, classes: 0, twoStream: true, scale: 2, seed: 11 },
  cpu,
);

describe('ASSD draft marks', () => {
  it('say what each round did, consistently with the tokens and the totals', async () => {
    const steps: StepProgress[] = [];
    const res = await sampleAsarm(model, {
      sampler: 'assd',
      draft: K,
      batch: B,
      length: L,
      seed: 5,
      onStep: (p) => steps.push(p),
    });
    const mask = model.maskId!;
    let accepted = 0,
      rejected = 0;
    let prev: Uint32Array = new Uint32Array(B * L).fill(mask);
    for (const p of steps) {
      expect(p.drafts).toBeInstanceOf(Uint8Array);
      const d = p.drafts!;
      expect(d.length).toBe(B * L);
      for (let b = 0; b < B; b++) {
        const row = Array.from(d.subarray(b * L, (b + 1) * L));
        const before = prev.subarray(b * L, (b + 1) * L),
          after = p.tokens.subarray(b * L, (b + 1) * L);
        const active = before.some((t) => t === mask);
        const count = (m: number) => row.filter((x) => x === m).length;
        expect(count(DRAFT_MARK.EXACT)).toBe(active ? 1 : 0);
        expect(count(DRAFT_MARK.REJECTED)).toBeLessThanOrEqual(1);
        expect(count(DRAFT_MARK.REJECTED) + count(DRAFT_MARK.BONUS)).toBeLessThanOrEqual(1);
        if (count(DRAFT_MARK.DISCARDED) > 0) expect(count(DRAFT_MARK.REJECTED)).toBe(1);
        for (let i = 0; i < L; i++) {
          const m = row[i];
          if (m === 0) expect(after[i]).toBe(before[i]);
          else if (m === DRAFT_MARK.DISCARDED) expect([before[i], after[i]]).toEqual([mask, mask]);
          else {
            expect(before[i]).toBe(mask);
            expect(after[i]).not.toBe(mask);
          }
        }
        accepted += count(DRAFT_MARK.ACCEPTED);
        rejected += count(DRAFT_MARK.REJECTED);
      }
      prev = p.tokens;
    }
    expect(Array.from(prev)).toEqual(Array.from(res.samples));
    expect(accepted).toBe(res.accepted);
    expect(rejected).toBe(res.proposed! - res.accepted!);
    expect(rejected).toBeGreaterThan(0);
    expect(accepted).toBeGreaterThan(0);
  });

  it('sequential sampling carries no marks', async () => {
    const seen: (Uint8Array | undefined)[] = [];
    await sampleAsarm(model, {
      sampler: 'sequential',
      batch: 2,
      length: L,
      seed: 5,
      onStep: (p) => seen.push(p.drafts),
    });
    expect(seen.length).toBe(L);
    expect(seen.every((d) => d === undefined)).toBe(true);
  });
});
