// The CLI's PNG writer: CRC-32 known answer, a well-formed file whose IDAT inflates to the rows
// (filter byte 0 + pixels), and the grid layout.
import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32, encodeGreyPng, gridPixels } from '../../src/cli/png.js';

describe('png', () => {
  it('crc32 of "123456789" is 0xCBF43926', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  });

  it('encodes a greyscale image that inflates back to its rows', () => {
    const px = Uint8Array.from([0, 50, 100, 150, 200, 250]);
    const png = encodeGreyPng(3, 2, px);
    expect(Array.from(png.subarray(0, 8))).toEqual([137, 80, 78, 71, 13, 10, 26, 10]);
    const dv = new DataView(png.buffer, png.byteOffset);
    expect([dv.getUint32(16), dv.getUint32(20)]).toEqual([3, 2]);
    const idatLen = dv.getUint32(33);
    expect(new TextDecoder().decode(png.subarray(37, 41))).toBe('IDAT');
    expect(Array.from(inflateSync(png.subarray(41, 41 + idatLen)))).toEqual([0, 0, 50, 100, 0, 150, 200, 250]);
    expect(() => encodeGreyPng(3, 3, px)).toThrow(RangeError);
  });

  it('tiles images with a white 2-pixel gap', () => {
    const imgs = new Float32Array(2 * 4).fill(0); // two 2×2 black images
    const g = gridPixels(imgs, 2, 2, 2, 2);
    expect([g.width, g.height]).toEqual([10, 6]); // 2·2 + 3·2 wide, 2 + 2·2 high
    expect(g.pixels[2 * 10 + 2]).toBe(0);
    expect(g.pixels[0]).toBe(255);
  });
});
