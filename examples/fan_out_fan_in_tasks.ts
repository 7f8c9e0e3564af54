/**
 * The task module of `examples/fan_out_fan_in.ts`: CRC-32 (the checksum of gzip and zip) of a
 * slice of a file, and how to join the CRCs of consecutive slices into the CRC of the whole.
 * Workers import this module by reference; the main thread imports it too, for the one-pass run.
 *
 * @module
 */

/** The CRC-32 of every byte value, for the reflected polynomial 0xEDB88320. */
const TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * The CRC-32 of `bytes`; pass the CRC of the bytes before them as `crc` to continue a stream.
 */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

/** Reads `length` bytes of the file at `path` from `offset` and returns their CRC-32. */
export async function crc32OfSlice(path: string, offset: number, length: number): Promise<number> {
  using file = await Deno.open(path);
  await file.seek(offset, Deno.SeekMode.Start);
  const bytes = new Uint8Array(length);
  let filled = 0;
  while (filled < length) {
    const n = await file.read(bytes.subarray(filled));
    if (n === null) break;
    filled += n;
  }
  return crc32(bytes.subarray(0, filled));
}

// A CRC is linear over GF(2): running the register over n zero bytes is a 32×32 bit matrix, kept
// here as its 32 columns. Squaring the one-byte matrix gives 2, 4, 8, … bytes, so shifting a CRC
// past a slice of n bytes costs log2(n) matrix products, not n steps.

/** The matrix `op` applied to the 32-bit vector `v`. */
function apply(op: Uint32Array, v: number): number {
  let out = 0;
  for (let i = 0; v !== 0; i++, v >>>= 1) if (v & 1) out ^= op[i]!;
  return out >>> 0;
}

/** The matrix `op` applied twice. */
function square(op: Uint32Array): Uint32Array {
  return op.map((column) => apply(op, column));
}

/** The register advanced over one zero bit: a shift right, folding in the polynomial. */
const ONE_ZERO_BIT = Uint32Array.from(
  { length: 32 },
  (_, i) => i === 0 ? 0xedb88320 : 1 << (i - 1),
);
const ONE_ZERO_BYTE = square(square(square(ONE_ZERO_BIT)));

/**
 * The CRC-32 of `a` followed by `b`, from `crc32(a)`, `crc32(b)` and `b.length` (zlib's
 * `crc32_combine`): the fan-in step of a checksum computed in slices.
 */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  let op = ONE_ZERO_BYTE;
  let crc = crcA;
  for (let n = lengthB; n > 0; n = Math.floor(n / 2)) {
    if (n % 2 === 1) crc = apply(op, crc);
    op = square(op);
  }
  return (crc ^ crcB) >>> 0;
}
