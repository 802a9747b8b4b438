/**
 * Pareto fronts over metric axes that are all maximised (negate an axis to minimise it). A point is
 * dominated when another is ≥ on every axis and > on at least one; the front is the non-dominated
 * set. Exact O(n²·axes); ties (equal points) are all kept.
 */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let strict = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i] < b[i]) return false;
    if (a[i] > b[i]) strict = true;
  }
  return strict;
}

/** Indices of the non-dominated points. NaN coordinates make a point ineligible. */
export function paretoFront(points: readonly (readonly number[])[]): number[] {
  const ok = points.map((p) => p.every((v) => !Number.isNaN(v)));
  const dims = new Set(points.map((p) => p.length));
  if (dims.size > 1) throw new RangeError(`points have different numbers of axes: ${[...dims].join(', ')}`);
  const front: number[] = [];
  for (let i = 0; i < points.length; i++) {
    if (!ok[i]) continue;
    let dominated = false;
    for (let j = 0; j < points.length && !dominated; j++)
      if (j !== i && ok[j] && dominates(points[j], points[i])) dominated = true;
    if (!dominated) front.push(i);
  }
  return front;
}

/** The front of every pair of axes and of all axes together, by axis names. */
export function paretoFronts(
  points: readonly Record<string, number>[],
  axes: readonly string[],
): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (let a = 0; a < axes.length; a++)
    for (let b = a + 1; b < axes.length; b++) {
      out[`${axes[a]}×${axes[b]}`] = paretoFront(points.map((p) => [p[axes[a]], p[axes[b]]]));
    }
  out[axes.join('×')] = paretoFront(points.map((p) => axes.map((k) => p[k])));
  return out;
}
