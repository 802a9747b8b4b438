/**
 * The Pareto explorer's import and export (src/ui/pareto-explorer.ts): records from JSON lines (the
 * CLI's sweep/merge output) or a JSON array, back to JSON lines; the plots as one SVG document or a
 * PNG; and the download of either.
 */
import { OpInputError } from '../errors.js';
import { mergeSweeps, parseJsonLines, toJsonLine, type SweepRecord } from '../sweep/records.js';
import { H, INK, W } from './pareto-plots.js';

/**
 * Saved records: JSON lines, or a JSON array of records. One sweep only (one spec hash), in setting
 * order; a malformed line or an empty file is an OpInputError.
 */
export function readRecords(text: string, sourceName: string): SweepRecord[] {
  const t = text.trim();
  const records = t.startsWith('[') ? (JSON.parse(t) as SweepRecord[]) : parseJsonLines(text);
  if (!records.length) throw new OpInputError('sweep', `${sourceName} holds no sweep records`);
  return mergeSweeps([records]);
}

/** records as JSON lines (one per setting, the CLI's format: `merge` reads it) */
export function toJsonLines(records: SweepRecord[]): string {
  return records.map((r) => toJsonLine(r)).join('\n') + (records.length ? '\n' : '');
}

/** the plots (the explorer's rendered `svg.plot` panels) as one standalone SVG document titled `name` */
export function plotsSvg(panels: SVGSVGElement[], name: string): string {
  const ser = new XMLSerializer();
  const gap = 16,
    top = 28;
  const width = panels.length * W + (panels.length - 1) * gap;
  const inner = panels
    .map((p, i) => {
      const c = p.cloneNode(true) as SVGSVGElement;
      for (const a of ['class', 'role', 'aria-labelledby', 'tabindex']) c.removeAttribute(a);
      c.querySelectorAll('[tabindex]').forEach((el) => el.removeAttribute('tabindex'));
      c.setAttribute('x', String(i * (W + gap)));
      c.setAttribute('y', String(top));
      c.setAttribute('width', String(W));
      c.setAttribute('height', String(H));
      return ser.serializeToString(c).replace(/<!--[\s\S]*?-->/g, '');
    })
    .join('\n');
  const title = name.replace(/[<>&]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;' })[c]!);
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + top}" viewBox="0 0 ${width} ${H + top}">\n` +
    `<rect width="100%" height="100%" fill="#ffffff"/>\n<text x="4" y="18" font-family="system-ui, sans-serif" font-size="14" fill="${INK}">${title} — Pareto fronts (filled: non-dominated for that pair)</text>\n${inner}\n</svg>\n`
  );
}

/** An SVG document as a PNG (drawn on a canvas at `scale`). */
export async function svgToPng(text: string, scale = 2): Promise<Blob> {
  const img = new Image();
  img.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(text)}`; // a data: image: the pages' img-src allows it, blob: not
  await img.decode();
  const c = document.createElement('canvas');
  c.width = Math.round(img.naturalWidth * scale);
  c.height = Math.round(img.naturalHeight * scale);
  const ctx = c.getContext('2d')!;
  ctx.scale(scale, scale);
  ctx.drawImage(img, 0, 0);
  return new Promise((resolve, reject) =>
    c.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png'),
  );
}

/** A file name for the exports: the sweep's name, made safe. */
export function fileStem(records: SweepRecord[]): string {
  return (records[0]?.name ?? 'sweep').replace(/[^\w.-]+/g, '-').replace(/^-|-$/g, '') || 'sweep';
}

/** Offer a blob as a download. */
export function download(blob: Blob, name: string): void {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(blob);
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}
