/**
 * What a device decodes is bounded by what the signed manifest lists (PROTOCOL.md §19.1): a
 * patch entry inflates to at most a little more than the file it makes, and decoding it makes
 * at most the file's size. A bomb (a tiny frame that decodes to gigabytes) is refused before it
 * allocates more.
 */

/** Publishers keep a patch only when it is smaller than the file deflated (deltaPatches.maxRatio ≤ 1); deflate adds 5 bytes per 16 KiB stored. */
export function maxPatchBytes(fileSize: number): number {
  return fileSize + Math.ceil(fileSize / 1024) + 1024;
}
