/** Formats that are already compressed: deflating them again costs time and saves nothing. */
const PRECOMPRESSED_EXTENSIONS = new Set([
  'png', 'jpg', 'jpeg', 'webp', 'gif', 'avif', 'heic', 'mp3', 'mp4', 'm4a', 'aac', 'ogg', 'opus', 'webm', 'mov',
  'zip', 'gz', 'tgz', 'br', 'zst', 'xz', 'bz2', '7z', 'woff', 'woff2', 'ktx2', 'basis', 'pvr', 'astc', 'jar', 'apk',
]);

export function isPrecompressed(path: string): boolean {
  const dot = path.lastIndexOf('.');
  return dot >= 0 && PRECOMPRESSED_EXTENSIONS.has(path.slice(dot + 1).toLowerCase());
}
