import semver from 'semver';
import { UserError } from '../errors.js';

export const BUMPS = ['patch', 'minor', 'major', 'prerelease'] as const;
export type Bump = (typeof BUMPS)[number];

export const FIRST_VERSION = '1.0.0';

/** A --version flag as normalised semver (v1.2.3 → 1.2.3), checked before any work starts. */
export function parseVersionFlag(value: string): string {
  const version = semver.valid(value);
  if (!version) throw new UserError(`--version '${value}' is not valid semver; use e.g. 1.2.3`);
  return version;
}

/**
 * The version for new content of a package: above every version already in
 * the store, whatever channel it is on, so a version names one content.
 */
export function nextVersion(id: string, existingVersions: string[], request: { version?: string; bump?: Bump }): string {
  const highest = semver.rsort([...existingVersions])[0];
  if (request.version !== undefined) {
    const version = parseVersionFlag(request.version);
    if (highest && !semver.gt(version, highest)) {
      throw new UserError(`package '${id}': --version ${version} must be greater than ${highest}, the highest version in the store`);
    }
    return version;
  }
  if (!highest) return FIRST_VERSION;
  return semver.inc(highest, request.bump ?? 'patch')!;
}
