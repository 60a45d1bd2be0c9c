/**
 * What is wrong with a store URL, or undefined: a folder path, file://… and
 * s3://… pass. Anything else with a scheme is refused rather than taken for a
 * folder, so a typo such as `s3:/bucket` never publishes to a local folder.
 */
export function storeUrlProblem(storeUrl: string): string | undefined {
  if (/^(s3|file):\/\//.test(storeUrl)) return undefined;
  // Two or more letters: a Windows drive letter (C:\releases) is a folder path.
  const scheme = /^([a-z][a-z0-9+.-]+):/i.exec(storeUrl)?.[1];
  // `s3//bucket` (the colon lost) is no folder anyone means either.
  if (scheme?.toLowerCase() === 's3' || /^s3\/\//i.test(storeUrl)) {
    return `store '${storeUrl}' is not an S3 URL; write s3://bucket/prefix (lowercase, two slashes)`;
  }
  if (scheme === undefined) return undefined;
  return `store '${storeUrl}' has unknown scheme '${scheme}:'; use a folder path or s3://bucket/prefix`;
}
