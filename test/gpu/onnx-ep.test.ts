// The ONNX adapter's execution provider choice in Node on the webgpu backend (lavapipe): onnxruntime-web
// resolves to its wasm-only build here, so 'auto' runs on wasm (outputs uploaded to the GPU backend, with
// parity to the native model), 'webgpu' is a ModelFormatError 'onnx-ep' saying why, and an unknown ep in
// the manifest is refused. (The WebGPU EP itself is tested in Chromium: test/e2e/onnx-webgpu.test.ts.)
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ModelFormatError } from '../../src/errors.js';
import { loadModel } from '../../src/models/index.js';
import { loadOnnxModel } from '../../src/models/onnx.js';
import { expectClose, gpuBackend } from '../util/gpu.js';
import { FIXTURES } from '../util/models.js';

describe('ONNX execution provider in Node (webgpu backend)', () => {
  it("'auto' falls back to wasm with parity; 'webgpu' is a typed error naming why", async () => {
    const be = await gpuBackend();
    const onnx = await loadOnnxModel(FIXTURES + 'tiny-bidir-onnx', be);
    expect(onnx.ep).toBe('wasm');
    const native = await loadModel(FIXTURES + 'tiny-bidir', be);
    const input = { tokens: Uint32Array.from({ length: 24 }, (_, i) => i % 11), batch: 2, length: 12 };
    expectClose(await be.read(await onnx.forward(input)), await be.read(native.forward(input)), 2e-3, 2e-3, 'auto');
    const err = await loadOnnxModel(FIXTURES + 'tiny-bidir-onnx', be, { ep: 'webgpu' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFormatError);
    expect((err as ModelFormatError).rule).toBe('onnx-ep');
    expect((err as Error).message).toMatch(/wasm-only/);
    onnx.dispose();
    native.dispose();
  });

  it('an unknown ep in the manifest is refused', async () => {
    const d = mkdtempSync(join(tmpdir(), 'ss-onnx-ep-'));
    cpSync(FIXTURES + 'tiny-bidir-onnx', d, { recursive: true });
    const m = JSON.parse(readFileSync(join(d, 'manifest.json'), 'utf8')) as { architecture: { ep?: string } };
    m.architecture.ep = 'cuda';
    writeFileSync(join(d, 'manifest.json'), JSON.stringify(m));
    await expect(loadOnnxModel(d, await gpuBackend())).rejects.toMatchObject({ rule: 'manifest-architecture' });
  });
});
