import semver from 'semver';

/**
 * Versions as devices read them (PROTOCOL.md §1.1): exactly the SemVer 2.0.0
 * grammar, nothing node-semver's leniency adds (`v1.2.0`, ` 1.2.0`), so every
 * client, whatever its language, accepts the same strings and picks the same
 * release. Equality and order are SemVer precedence: build metadata is ignored.
 */

/** At most 256 characters (node-semver's limit), so a device-sent string cannot make parsing expensive. */
export const MAX_VERSION_LENGTH = 256;

/**
 * The SemVer 2.0.0 grammar (semver.org's regular expression): no leading `v`
 * or `=`, no whitespace, no leading zeros in numeric identifiers. node-semver
 * also bounds major, minor and patch by 2^53 − 1, and so do we.
 */
const SEMVER_2 =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** The parsed version, or null when the text is not exactly a SemVer 2.0.0 version. */
export function parseProtocolVersion(text: unknown): semver.SemVer | null {
  if (typeof text !== 'string' || text.length > MAX_VERSION_LENGTH || !SEMVER_2.test(text)) return null;
  return semver.parse(text);
}

export const isProtocolVersion = (text: unknown): text is string => parseProtocolVersion(text) !== null;

/** SemVer precedence: negative, 0 or positive; build metadata does not count (`1.0.0+b` equals `1.0.0`). Both must be valid. */
export function compareVersions(a: string, b: string): number {
  const parsedA = parseProtocolVersion(a);
  const parsedB = parseProtocolVersion(b);
  if (!parsedA || !parsedB) throw new Error(`not a SemVer 2.0.0 version: ${JSON.stringify(parsedA ? b : a)}`);
  return parsedA.compare(parsedB);
}
