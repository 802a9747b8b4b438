/** Expected probabilities of the categorical op, straight from the definitions (f64), for tests. */
export function expectedProbs(logits: ArrayLike<number>, T: number, topK = 0, topP = 1): number[] {
  const z = Array.from(logits, (l) => l / T);
  const m = Math.max(...z);
  const order = z.map((v, i) => i).sort((a, b) => z[b] - z[a]);
  let keep = new Set(order);
  if (topK > 0 && topK < z.length) {
    const thr = z[order[topK - 1]];
    keep = new Set(order.filter((i) => z[i] >= thr));
  }
  if (topP < 1) {
    const kept = order.filter((i) => keep.has(i));
    const tot = kept.reduce((s, i) => s + Math.exp(z[i] - m), 0);
    let cum = 0,
      thr = -Infinity;
    for (let j = 0; j < kept.length; j++) {
      cum += Math.exp(z[kept[j]] - m);
      if (j + 1 < kept.length && z[kept[j + 1]] === z[kept[j]]) continue;
      if (cum >= topP * tot) {
        thr = z[kept[j]];
        break;
      }
    }
    keep = new Set(kept.filter((i) => z[i] >= thr));
  }
  const w = z.map((v, i) => (keep.has(i) ? Math.exp(v - m) : 0));
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

export function countsOf(samples: ArrayLike<number>, V: number): number[] {
  const c = new Array(V).fill(0);
  for (let i = 0; i < samples.length; i++) c[samples[i]]++;
  return c;
}
