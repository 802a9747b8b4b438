/**
 * Shape and option validation shared by both backends, so a bad call fails the same way (OpInputError
 * naming the op and the rule) whether it runs on the GPU or the CPU.
 */
import { OpInputError } from '../errors.js';
import { assertLive, dtypeOf, type BackendName, type DType, type HostArray, type Tensor } from './tensor.js';

export function fail(op: string, msg: string): never {
  throw new OpInputError(op, msg);
}

export function expect(
  op: string,
  name: string,
  t: Tensor,
  backend: BackendName,
  dtypes: DType[],
  rank?: number[],
): void {
  if (!t || typeof t !== 'object' || !('shape' in t)) fail(op, `${name} must be a Tensor`);
  assertLive(t, op);
  if (t.backend !== backend) fail(op, `${name} lives on the ${t.backend} backend, not ${backend}`);
  if (!dtypes.includes(t.dtype)) fail(op, `${name} must be ${dtypes.join(' or ')}, got ${t.dtype}`);
  if (rank && !rank.includes(t.shape.length))
    fail(op, `${name} must have rank ${rank.join(' or ')}, got [${t.shape.join(', ')}]`);
}

export function expectOut(
  op: string,
  out: Tensor | undefined,
  shape: readonly number[],
  dtype: DType,
  backend: BackendName,
): void {
  if (!out) return;
  expect(op, 'out', out, backend, [dtype]);
  if (out.shape.length !== shape.length || out.shape.some((d, i) => d !== shape[i])) {
    fail(op, `out has shape [${out.shape.join(', ')}], expected [${shape.join(', ')}]`);
  }
}

export function planRows(op: string, x: Tensor, be: BackendName, C?: number): { rows: number; C: number } {
  expect(op, 'x', x, be, ['f32']);
  if (x.shape.length < 1) fail(op, 'x must have rank ≥ 1');
  const c = x.shape[x.shape.length - 1];
  if (C !== undefined && c !== C) fail(op, `last dimension ${c} does not match parameter length ${C}`);
  return { rows: c === 0 ? 0 : x.size / c, C: c };
}

export function planNorm(
  op: string,
  x: Tensor,
  gamma: Tensor,
  beta: Tensor | null,
  eps: number,
  be: BackendName,
): { rows: number; C: number } {
  expect(op, 'gamma', gamma, be, ['f32'], [1]);
  if (beta) expect(op, 'beta', beta, be, ['f32'], [1]);
  if (beta && beta.shape[0] !== gamma.shape[0]) fail(op, 'gamma and beta differ in length');
  if (!(eps >= 0) || !Number.isFinite(eps)) fail(op, `eps must be finite and ≥ 0, got ${eps}`);
  return planRows(op, x, be, gamma.shape[0]);
}

/** Validate a host write into `t`. */
export function planWrite(t: Tensor, data: HostArray, be: BackendName): void {
  expect('write', 't', t, be, [t.dtype]);
  if (data.length !== t.size || dtypeOf(data) !== t.dtype) fail('write', `expected ${t.size} ${t.dtype} values`);
}

export function planReshape(t: Tensor, shape: readonly number[], be: BackendName): void {
  expect('reshape', 't', t, be, ['f32', 'u32', 'i32', 'f16']);
  if (shape.some((d) => !Number.isInteger(d) || d < 0) || shape.reduce((a, b) => a * b, 1) !== t.size) {
    fail('reshape', `cannot view [${t.shape.join(', ')}] as [${shape.join(', ')}]`);
  }
}

/**
 * Tensors stacked along dimension 0: at least one, all live on `backend`, owning their storage (no
 * views), of one dtype and rank ≥ 1, equal past dimension 0. Returns the stacked shape.
 */
export function planStack(parts: readonly Tensor[], backend: BackendName): number[] {
  if (!parts?.length) fail('stack', 'needs at least one tensor');
  const [first] = parts;
  parts.forEach((t, i) => expect('stack', `parts[${i}]`, t, backend, [first.dtype]));
  if (first.shape.length < 1) fail('stack', 'tensors must have rank ≥ 1');
  const tail = first.shape.slice(1);
  let rows = 0;
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i];
    if ((t as { view?: boolean }).view) fail('stack', `parts[${i}] is a view (stack takes ownership of its storage)`);
    if (t.shape.length !== first.shape.length || t.shape.slice(1).some((d, j) => d !== tail[j]))
      fail('stack', `parts[${i}] has shape [${t.shape.join(', ')}], unlike [·, ${tail.join(', ')}]`);
    if (parts.indexOf(t) !== i) fail('stack', `parts[${i}] appears twice`);
    rows += t.shape[0];
  }
  return [rows, ...tail];
}
