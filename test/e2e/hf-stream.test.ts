// In Chromium (SwiftShader here): an HF fixture split into 3 shards + model.safetensors.index.json
// (test/util/shards.ts, copied under scratch/ so the Vite server serves it) is streamed by URL —
// fetch, incremental sha256, each shard's header checked before its tensors go up, LLaMA's gate and
// up stacked on the GPU — and gives exactly the logits of the same fixture loaded whole, and
// transformers' within 5e-5 + 1e-5·|ref| (test/gpu/hf-stream.test.ts does the same on Dawn).
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { useBrowserAndServer } from '../util/browser.js';
import { HF_FIXTURES } from '../util/hf.js';
import { shardedCopy } from '../util/shards.js';

const ctx = useBrowserAndServer();
const scratch = fileURLToPath(new URL('../../scratch/', import.meta.url));
const made: string[] = [];
afterAll(() => {
  for (const d of made) rmSync(d, { recursive: true, force: true });
});

describe('HF checkpoints streamed in the browser', () => {
  it('llama-causal in 3 shards over fetch: the whole load’s logits exactly, transformers’ within 5e-5', async () => {
    const sharded = shardedCopy(join(HF_FIXTURES, 'llama-causal'), 3);
    const served = join(scratch, `e2e-${basename(sharded)}`);
    mkdirSync(scratch, { recursive: true });
    cpSync(sharded, served, { recursive: true });
    made.push(served, sharded);
    const page = await ctx.browser.newPage();
    await page.goto(ctx.url);
    const r = (await page.evaluate(`(async () => {
      const { createBackend } = await import('/src/backend/create.ts');
      const { loadModel, parseSafetensors, tensorData } = await import('/src/models/index.ts');
      const be = await createBackend({ prefer: 'webgpu' });
      const src = '/test/fixtures/hf/llama-causal/';
      const g = parseSafetensors(new Uint8Array(await (await fetch(src + 'golden.safetensors')).arrayBuffer()));
      const ids = Uint32Array.from(tensorData(g, 'input_ids'));
      const [B, T] = g.tensors.get('input_ids').shape;
      const { forwardTokens } = await import('/test/util/causal.ts');
      const tokens = forwardTokens(ids, B, T, true);
      const input = { tokens, batch: B, length: T };
      const files = new Set();
      let reports = 0;
      const streamed = await loadModel('/scratch/${basename(served)}/', be, {
        cache: false,
        onProgress: (p) => { reports++; files.add(p.file); },
      });
      const whole = await loadModel(src, be, { cache: false });
      const a = await be.read(streamed.forward(input));
      const w = await be.read(whole.forward(input));
      const want = tensorData(g, 'logits_f32');
      let same = a.length === w.length, worst = -Infinity;
      for (let i = 0; i < a.length; i++) {
        same &&= a[i] === w[i];
        worst = Math.max(worst, Math.abs(a[i] - want[i]) - (5e-5 + 1e-5 * Math.abs(want[i])));
      }
      const gateUp = streamed.blocks[0].up.w.blocks?.length ?? 1;
      return { backend: be.name, n: a.length, same, worst, reports, files: [...files].sort(), gateUp };
    })()`)) as {
      backend: string;
      n: number;
      same: boolean;
      worst: number;
      reports: number;
      files: string[];
      gateUp: number;
    };
    expect(r.backend).toBe('webgpu');
    expect(r.n).toBe(2 * 8 * 96);
    expect(r.same, 'streamed logits === whole-load logits').toBe(true);
    expect(r.worst).toBeLessThanOrEqual(0);
    // one progress count across the shards (per tensor, so more reports than files)
    expect(r.files.filter((f) => f.endsWith('.safetensors'))).toEqual([
      'model-00001-of-00003.safetensors',
      'model-00002-of-00003.safetensors',
      'model-00003-of-00003.safetensors',
    ]);
    expect(r.reports).toBeGreaterThan(10);
    expect(r.gateUp, 'gate and up stacked on the GPU').toBe(2);
    await page.close();
  });
});
