/**
 * Draws the app icon, build/icon.png (1024×1024 RGBA), from code: electron-builder makes the
 * .icns, .ico and Linux sizes from it. No image library and no download: shapes are signed
 * distance functions, antialiased per pixel, written as a PNG with node:zlib.
 *
 *   npm run release:icon
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { deflateSync } from 'node:zlib';

const SIZE = 1024;
type RGBA = [number, number, number, number];

/** Coverage (0..1) of a pixel by a shape whose signed distance at its centre is `d`. */
const cover = (d: number) => Math.max(0, Math.min(1, 0.5 - d));

function roundedSquare(x: number, y: number, c: number, half: number, r: number): number {
  const qx = Math.abs(x - c) - (half - r);
  const qy = Math.abs(y - c) - (half - r);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0) - r;
}
const circle = (x: number, y: number, cx: number, cy: number, r: number) =>
  Math.hypot(x - cx, y - cy) - r;
const ring = (x: number, y: number, cx: number, cy: number, r: number, w: number) =>
  Math.abs(circle(x, y, cx, cy, r)) - w / 2;
function box(x: number, y: number, x0: number, y0: number, x1: number, y1: number): number {
  const qx = Math.max(x0 - x, x - x1);
  const qy = Math.max(y0 - y, y - y1);
  return Math.hypot(Math.max(qx, 0), Math.max(qy, 0)) + Math.min(Math.max(qx, qy), 0);
}

function over(dst: RGBA, [r, g, b]: [number, number, number], a: number): void {
  if (a <= 0) return;
  const out = a + dst[3] * (1 - a);
  for (const [i, v] of [r, g, b].entries())
    dst[i] = (v * a + dst[i]! * dst[3] * (1 - a)) / (out || 1);
  dst[3] = out;
}

/** The icon: a dark vault door (rounded square), a bitcoin-orange dial, a stable bar across it. */
export function drawIcon(size = SIZE): Buffer {
  const s = size / SIZE;
  const px = Buffer.alloc(size * size * 4);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const X = (x + 0.5) / s;
      const Y = (y + 0.5) / s;
      const c: RGBA = [0, 0, 0, 0];
      const t = Y / SIZE;
      over(
        c,
        [16 + 14 * t, 22 + 12 * t, 30 + 20 * t],
        cover(roundedSquare(X, Y, 512, 448, 180) * s),
      );
      over(c, [247, 147, 26], cover(ring(X, Y, 512, 512, 290, 56) * s));
      for (const a of [0, 1, 2, 3, 4, 5, 6, 7]) {
        const ang = (a * Math.PI) / 4;
        over(
          c,
          [247, 147, 26],
          cover(circle(X, Y, 512 + 352 * Math.cos(ang), 512 + 352 * Math.sin(ang), 22) * s),
        );
      }
      over(c, [236, 240, 245], cover(circle(X, Y, 512, 512, 170) * s));
      over(c, [16, 22, 30], cover((box(X, Y, 400, 470, 624, 554) - 12) * s));
      px.set(
        c.map((v, i) => Math.round(i === 3 ? v * 255 : v)),
        (y * size + x) * 4,
      );
    }
  }
  return encodePng(px, size, size);
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
function crc32(buf: Buffer): number {
  let c = 0xffffffff;
  for (const b of buf) c = CRC_TABLE[(c ^ b) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'ascii');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
  return Buffer.concat([head, data, crc]);
}

/** A minimal PNG: 8-bit RGBA, no filtering, one IDAT. */
export function encodePng(rgba: Buffer, width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const rows = Buffer.alloc((width * 4 + 1) * height);
  for (let y = 0; y < height; y++)
    rgba.copy(rows, y * (width * 4 + 1) + 1, y * width * 4, (y + 1) * width * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const out = join(import.meta.dirname, '..', 'build', 'icon.png');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, drawIcon());
  console.log(`wrote ${out}`);
}
