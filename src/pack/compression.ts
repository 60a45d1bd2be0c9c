/** Formats that are already compressed: deflating them again costs time and saves nothing. */
const PRECOMPRESSED_EXTENSIONS = new Set([
  'png', 'jpg', 'jpeg', 'webp', 'gif', 'avif', 'heic', 'mp3', 'mp4', 'm4a', 'aac', 'ogg', 'opus', 'webm', 'mov',
  'zip', 'gz', 'tgz', 'br', 'zst', 'xz', 'bz2', '7z', 'woff', 'woff2', 'ktx2', 'basis', 'pvr', 'astc', 'jar', 'apk',
]);

export function isPrecompressed(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot >= 0 && PRECOMPRESSED_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}

/** Samples shorter than this say too little; the caller deflates and keeps whichever is smaller. */
const MIN_SAMPLE = 4096;
/**
 * Bits per byte above which deflate saves under ~1%: random, encrypted or
 * already-compressed data. Text and JSON sit near 5, float arrays near 7.5.
 */
const INCOMPRESSIBLE_ENTROPY = 7.9;

/**
 * Whether bytes look incompressible, from their byte histogram (order-0
 * entropy with the Miller–Madow small-sample correction). Content alone
 * decides, so the same files always make the same zip.
 */
export function looksIncompressible(sample: Uint8Array): boolean {
  if (sample.length < MIN_SAMPLE) return false;
  const counts = new Uint32Array(256);
  for (let i = 0; i < sample.length; i++) counts[sample[i]!]++;
  let entropy = 0;
  let used = 0;
  for (const count of counts) {
    if (count === 0) continue;
    used++;
    const p = count / sample.length;
    entropy -= p * Math.log2(p);
  }
  return entropy + (used - 1) / (2 * sample.length * Math.LN2) >= INCOMPRESSIBLE_ENTROPY;
}
