/**
 * Minimal PNG writer for sample grids (8-bit greyscale, no filtering, zlib from node:zlib), and
 * the grid layout: n images (H, W, 1) in [0, 1] tiled row-major with a 2-pixel gap.
 */
import { deflateSync } from 'node:zlib';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, data.length);
  for (let i = 0; i < 4; i++) out[4 + i] = type.charCodeAt(i);
  out.set(data, 8);
  dv.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** PNG bytes of a (height, width) greyscale image given as bytes. */
export function encodeGreyPng(width: number, height: number, pixels: Uint8Array): Uint8Array {
  if (pixels.length !== width * height) throw new RangeError(`need ${width * height} pixels, got ${pixels.length}`);
  const raw = new Uint8Array(height * (width + 1)); // filter byte 0 per row
  for (let y = 0; y < height; y++) raw.set(pixels.subarray(y * width, (y + 1) * width), y * (width + 1) + 1);
  const ihdr = new Uint8Array(13);
  const dv = new DataView(ihdr.buffer);
  dv.setUint32(0, width);
  dv.setUint32(4, height);
  ihdr.set([8, 0, 0, 0, 0], 8); // bit depth 8, greyscale, deflate, no filter method, no interlace
  const parts = [
    Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', new Uint8Array(0)),
  ];
  return new Uint8Array(Buffer.concat(parts));
}

/** Tile n greyscale images (n, H, W) in [0, 1] into one grid (cols per row, 2-px gap, white gap lines). */
export function gridPixels(
  images: Float32Array,
  n: number,
  H: number,
  W: number,
  cols = Math.ceil(Math.sqrt(n)),
): { width: number; height: number; pixels: Uint8Array } {
  const gap = 2,
    rows = Math.ceil(n / cols);
  const width = cols * W + (cols + 1) * gap,
    height = rows * H + (rows + 1) * gap;
  const pixels = new Uint8Array(width * height).fill(255);
  for (let k = 0; k < n; k++) {
    const ox = gap + (k % cols) * (W + gap),
      oy = gap + Math.floor(k / cols) * (H + gap);
    for (let y = 0; y < H; y++)
      for (let x = 0; x < W; x++) {
        const v = images[k * H * W + y * W + x];
        pixels[(oy + y) * width + ox + x] = Math.round(255 * Math.min(1, Math.max(0, v)));
      }
  }
  return { width, height, pixels };
}
