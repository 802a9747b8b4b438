/**
 * The peer: onnxruntime-web running the ONNX export of the same model (training/export_onnx.py,
 * served from /bench/.onnx/) on its WebGPU EP or its wasm EP, in the same page as ours.
 * ORT is loaded from node_modules as served by Vite (`onnxruntime-web/webgpu`, i.e.
 * dist/ort.webgpu.min.mjs, which has both EPs), with its .wasm/.mjs loader from the same folder.
 */
import type * as OrtModule from 'onnxruntime-web';
import { timestepEmbedding } from '../../src/models/denoiser.js';
import type { ImageInputs, TextInputs } from '../sections.js';

type Ort = typeof OrtModule;
const ORT_DIR = '/node_modules/onnxruntime-web/dist/';
let ortP: Promise<Ort> | undefined;

export function loadOrt(): Promise<Ort> {
  ortP ??= (import(/* @vite-ignore */ `${ORT_DIR}ort.webgpu.min.mjs`) as Promise<Ort>).then((ort) => {
    ort.env.wasm.wasmPaths = ORT_DIR;
    ort.env.wasm.numThreads = 1; // the page is not cross-origin isolated: no wasm threads
    ort.env.logLevel = 'error';
    return ort;
  });
  return ortP;
}

/** The ONNX file of a model at a fixed shape (the names training/export_onnx.py writes). */
export function onnxFile(inputs: TextInputs | ImageInputs): string {
  return inputs.kind === 'text'
    ? `text-mdm-b${inputs.batch}-l${inputs.length}.onnx`
    : `digits-diffusion-b${inputs.batch}.onnx`;
}

function feeds(ort: Ort, inputs: TextInputs | ImageInputs): Record<string, OrtModule.Tensor> {
  const i64 = (a: Uint32Array, dims: number[]) =>
    new ort.Tensor(
      'int64',
      BigInt64Array.from(a, (v) => BigInt(v)),
      dims,
    );
  if (inputs.kind === 'text') {
    return { tokens: i64(inputs.tokens, [inputs.batch, inputs.length]), cls: i64(inputs.classes, [inputs.batch]) };
  }
  const { batch: B, size: S, channels: C, tDim } = inputs;
  return {
    x: new ort.Tensor('float32', inputs.x, [B, S, S, C]),
    // the host computes the sinusoidal embedding in f64, as src/models/denoiser.ts does for ours
    temb: new ort.Tensor('float32', timestepEmbedding(inputs.t, tDim), [B, tDim]),
    cls: i64(inputs.classes, [B]),
  };
}

export interface OrtRun {
  /** one forward: feeds in, output read back to the host */
  run(): Promise<Float32Array>;
  createMs: number;
  /** the WebGPU EP's device (for its adapter and buffer bytes) */
  device?: GPUDevice;
  release(): Promise<void>;
}

export async function ortSession(ep: 'webgpu' | 'wasm', inputs: TextInputs | ImageInputs): Promise<OrtRun> {
  const ort = await loadOrt();
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(`/bench/.onnx/${onnxFile(inputs)}`, {
    executionProviders: [ep],
    graphOptimizationLevel: 'all',
  });
  const createMs = performance.now() - t0;
  const f = feeds(ort, inputs);
  const out = session.outputNames[0];
  const run = async () => {
    const r = await session.run(f);
    const t = r[out];
    const data = (await t.getData()) as Float32Array;
    t.dispose();
    return data;
  };
  const device = ep === 'webgpu' ? ((await ort.env.webgpu.device) as GPUDevice) : undefined;
  return { run, createMs, device, release: () => session.release() };
}
