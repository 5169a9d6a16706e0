// The murmur3 32-bit finalizer (fmix32): spreads every input bit over the whole word.
// Shared by the EAM table's slot index, the RFC 6791 pool's pick and the NAT64 keys.

/** murmur3 fmix32 of a 32-bit value; returns a uint32. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
