// Draws Kumpul's icons (people gathered round a centre) as PNG and SVG into public/icons/.
// Run once after changing the design: `node scripts/icons.mjs`. Uses only Node's own modules.
import { mkdirSync, writeFileSync } from "node:fs";
import { deflateSync } from "node:zlib";

const BRAND = [0x0b, 0x4a, 0x55];
const WHITE = [0xff, 0xff, 0xff];
const out = new URL("../public/icons/", import.meta.url);
mkdirSync(out, { recursive: true });

/** The design on a 32×32 grid: a centre dot and five around it. */
const DOTS = [{ x: 16, y: 16, r: 3.6 }];
for (let i = 0; i < 5; i++) {
  const angle = -Math.PI / 2 + (i * 2 * Math.PI) / 5;
  DOTS.push({ x: 16 + 9.2 * Math.cos(angle), y: 16 + 9.2 * Math.sin(angle), r: 2.6 });
}

function crc32(bytes) {
  let crc = ~0;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
  }
  return ~crc >>> 0;
}

function chunk(type, data) {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, "ascii"), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([length, body, crc]);
}

function png(size, pixel) {
  const rows = [];
  const samples = 4;
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 4);
    for (let x = 0; x < size; x++) {
      const sum = [0, 0, 0, 0];
      for (let sy = 0; sy < samples; sy++) {
        for (let sx = 0; sx < samples; sx++) {
          const [r, g, b, a] = pixel((x + (sx + 0.5) / samples) / size, (y + (sy + 0.5) / samples) / size);
          sum[0] += r * a;
          sum[1] += g * a;
          sum[2] += b * a;
          sum[3] += a;
        }
      }
      const alpha = sum[3] / (samples * samples);
      const offset = 1 + x * 4;
      for (let c = 0; c < 3; c++) row[offset + c] = alpha ? Math.round(sum[c] / sum[3]) : 0;
      row[offset + 3] = Math.round(alpha * 255);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header[8] = 8;
  header[9] = 6;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk("IHDR", header),
    chunk("IDAT", deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk("IEND", Buffer.alloc(0)),
  ]);
}

/** A pixel of the design; `scale` shrinks the dots towards the centre (maskable safe zone), `corner` rounds the square. */
function design({ scale = 1, corner = 0 }) {
  return (u, v) => {
    const x = 32 * u;
    const y = 32 * v;
    if (corner) {
      const cx = Math.min(Math.max(x, corner), 32 - corner);
      const cy = Math.min(Math.max(y, corner), 32 - corner);
      if ((x - cx) ** 2 + (y - cy) ** 2 > corner ** 2) return [0, 0, 0, 0];
    }
    for (const dot of DOTS) {
      const dx = (x - 16) / scale + 16 - dot.x;
      const dy = (y - 16) / scale + 16 - dot.y;
      if (dx * dx + dy * dy <= dot.r * dot.r) return [...WHITE, 1];
    }
    return [...BRAND, 1];
  };
}

writeFileSync(new URL("icon-192.png", out), png(192, design({ corner: 7 })));
writeFileSync(new URL("icon-512.png", out), png(512, design({ corner: 7 })));
writeFileSync(new URL("maskable-512.png", out), png(512, design({ scale: 0.72 })));
writeFileSync(new URL("apple-touch-icon.png", out), png(180, design({ scale: 0.85 })));
// The notification badge: the dots alone on transparency (Android draws it in one colour).
const badge = (u, v) => {
  const pixel = design({ scale: 1.15 })(u, v);
  return pixel[0] === WHITE[0] ? pixel : [0, 0, 0, 0];
};
writeFileSync(new URL("badge-96.png", out), png(96, badge));

const circles = DOTS.map((d) => `<circle cx="${d.x.toFixed(2)}" cy="${d.y.toFixed(2)}" r="${d.r}"/>`).join("");
writeFileSync(
  new URL("icon.svg", out),
  `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="#0b4a55"/><g fill="#fff">${circles}</g></svg>\n`,
);
