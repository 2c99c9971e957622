/** A QR code as one SVG path (dark modules), drawn from `uqr`'s matrix; loaded only with a link code. */

import { encode } from "uqr";

export interface QrShape {
  /** Modules per side, the quiet zone included. */
  size: number;
  path: string;
}

export function qrShape(text: string): QrShape {
  const { data, size } = encode(text, { ecc: "M", border: 4 });
  let path = "";
  data.forEach((row, y) => {
    let x = 0;
    while (x < size) {
      if (!row[x]) {
        x += 1;
        continue;
      }
      const start = x;
      while (x < size && row[x]) x += 1;
      path += `M${start} ${y}h${x - start}v1h${start - x}z`;
    }
  });
  return { size, path };
}
