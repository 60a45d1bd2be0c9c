import { readAppReleases, readSwitches } from '../read-documents.js';
import { asTrusted, type TrustedKeys } from './documents.js';
import type { UpdateSource } from './source.js';

/**
 * The versioned channel documents as a device reads them (read-documents.ts),
 * with Node keys accepted too: size bounded, signatures checked exactly like
 * the index's, then the one reader of each document. A channel without one
 * has no switches, or no app releases.
 */
export const readSwitchesDocument = (source: UpdateSource, channel: string, publicKeys: TrustedKeys) => readSwitches(source, channel, asTrusted(publicKeys));
export const readAppReleasesDocument = (source: UpdateSource, channel: string, publicKeys: TrustedKeys) => readAppReleases(source, channel, asTrusted(publicKeys));
