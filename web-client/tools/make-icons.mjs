// Draws the editor's PNG icons (the same picture as assets/icons/icon.svg) without any
// dependency: `node web-client/tools/make-icons.mjs`. The outputs are committed.
import { writeFileSync } from 'node:fs';
import { deflateSync } from 'node:zlib';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => { let c = 0xffffffff; for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8); return (c ^ 0xffffffff) >>> 0; };
const chunk = (type, data) => {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type), data]);
  const c = Buffer.alloc(4); c.writeUInt32BE(crc(td));
  return Buffer.concat([len, td, c]);
};

/** Coverage of the picture at (x, y) in a 512-unit square: 0 background … 1 white mark. */
function mark(x, y) {
  const ring = Math.abs(Math.hypot(x - 248, y - 240) - 124) - 26;
  // Tail: segment (300,300)-(392,392), half-width 28.
  const t = Math.max(0, Math.min(1, ((x - 300) * 92 + (y - 300) * 92) / (2 * 92 * 92)));
  const tail = Math.hypot(x - (300 + 92 * t), y - (300 + 92 * t)) - 28;
  return Math.min(ring, tail);
}

function icon(size, maskable) {
  const raw = Buffer.alloc((size * 4 + 1) * size);
  const scale = 512 / size;
  const inset = maskable ? 0.72 : 1; // maskable icons keep the mark inside the safe zone
  for (let py = 0; py < size; py++) {
    raw[py * (size * 4 + 1)] = 0;
    for (let px = 0; px < size; px++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (const [ox, oy] of [[0.25, 0.25], [0.75, 0.25], [0.25, 0.75], [0.75, 0.75]]) {
        const x = (px + ox) * scale, y = (py + oy) * scale;
        const rx = Math.max(0, Math.abs(x - 256) - 160), ry = Math.max(0, Math.abs(y - 256) - 160);
        const inside = maskable || Math.hypot(rx, ry) <= 96;
        if (!inside) continue;
        const mx = 256 + (x - 256) / inset, my = 256 + (y - 256) / inset;
        const white = mark(mx, my) <= 0;
        r += white ? 255 : 0x1d; g += white ? 255 : 0x4e; b += white ? 255 : 0xd8; a += 255;
      }
      const o = py * (size * 4 + 1) + 1 + px * 4;
      const n = a / 255 || 1;
      raw[o] = r / n; raw[o + 1] = g / n; raw[o + 2] = b / n; raw[o + 3] = a / 4;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0); ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8; ihdr[9] = 6; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0)),
  ]);
}

const dir = new URL('../assets/icons/', import.meta.url);
writeFileSync(new URL('icon-192.png', dir), icon(192, false));
writeFileSync(new URL('icon-512.png', dir), icon(512, false));
writeFileSync(new URL('icon-maskable-512.png', dir), icon(512, true));
