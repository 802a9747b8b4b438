/**
 * CPU twin of shaders/matmul.wgsl: C[b] = act(A[b]·op(B[b]) + bias), accumulated in f64.
 * op(B) = Bᵀ when transB (B stored (N, K), the nn.Linear weight layout). B is shared across the
 * batch unless bBatched. act 'gelu' is the tanh form (torch approximate='tanh'). B may be f16 bits
 * (a Uint16Array): widened exactly to f32 first, as the kernel's unpack2x16float does.
 */
import { fromF16 } from '../backend/f16.js';
import { geluTanh } from './elementwise.js';

export interface MatmulDims {
  batch: number;
  M: number;
  K: number;
  N: number;
  transB?: boolean;
  bBatched?: boolean;
  activation?: 'none' | 'gelu';
}

export function matmulRef(
  a: Float32Array,
  b16: Float32Array | Uint16Array,
  d: MatmulDims,
  bias?: Float32Array | null,
): Float32Array {
  const { batch, M, K, N } = d;
  const b = b16 instanceof Uint16Array ? fromF16(b16) : b16;
  const c = new Float32Array(batch * M * N);
  for (let bi = 0; bi < batch; bi++) {
    const ao = bi * M * K;
    const bo = d.bBatched ? bi * K * N : 0;
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let k = 0; k < K; k++) {
          const bv = d.transB ? b[bo + j * K + k] : b[bo + k * N + j];
          s += a[ao + i * K + k] * bv;
        }
        if (bias) s += bias[j];
        c[bi * M * N + i * N + j] = d.activation === 'gelu' ? geluTanh(s) : s;
      }
    }
  }
  return c;
}
