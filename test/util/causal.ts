/**
 * What our forward takes for an HF fixture's golden input (test/fixtures/hf: input_ids and transformers' logits):
 * causal models are fed [bos, x_0 …] by the model itself, so the golden's leading BOS is dropped and one id
 * padded at the end. No Node imports: the Chromium e2e pages import it too (/test/util/causal.ts).
 */
export function forwardTokens(ids: Uint32Array, B: number, T: number, causal: boolean): Uint32Array {
  if (!causal) return ids;
  const x = new Uint32Array(B * T).fill(5);
  for (let b = 0; b < B; b++) x.set(ids.subarray(b * T + 1, (b + 1) * T), b * T);
  return x;
}
