// Byte copying: short runs by loop (no allocation), long runs through one subarray view
// (one small short-lived object, far cheaper than a byte loop over a 1500-byte payload).

export function copyBytes(
  dst: Uint8Array,
  dOff: number,
  src: Uint8Array,
  sOff: number,
  n: number,
): void {
  if (n <= 0) return;
  if (n < 96) {
    for (let k = 0; k < n; k++) dst[dOff + k] = src[sOff + k];
    return;
  }
  dst.set(src.subarray(sOff, sOff + n), dOff);
}

export function zeroBytes(dst: Uint8Array, off: number, n: number): void {
  for (let k = 0; k < n; k++) dst[off + k] = 0;
}

export const get16 = (b: Uint8Array, off: number): number => (b[off] << 8) | b[off + 1];

export function put16(b: Uint8Array, off: number, v: number): void {
  b[off] = (v >>> 8) & 255;
  b[off + 1] = v & 255;
}

export function put32(b: Uint8Array, off: number, v: number): void {
  b[off] = v >>> 24;
  b[off + 1] = (v >>> 16) & 255;
  b[off + 2] = (v >>> 8) & 255;
  b[off + 3] = v & 255;
}

export const get32 = (b: Uint8Array, off: number): number =>
  ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
