import { APP_RELEASES_MAX_BYTES, emptyAppReleases, validateAppReleases, type AppReleasesDocument } from '../../protocol/app-releases.js';
import type { VersionedChannelDocument } from '../../protocol/channel-document.js';
import { appReleasesKey, switchesKey } from '../../protocol/layout.js';
import { emptySwitches, SWITCHES_MAX_BYTES, validateSwitches, type SwitchesDocument } from '../../protocol/switches.js';
import { readSignedJson, type TrustedKeys } from './documents.js';
import type { UpdateSource } from './source.js';

/**
 * The versioned channel documents as a device reads them: size bounded,
 * signatures checked exactly like the index's (with trusted keys, a missing
 * or foreign signature is refused), then the one reader of each document. A
 * channel without one has no switches, or no app releases. `signed`: its
 * signature was checked and valid (freshness needs it: protocol/freshness.ts).
 */
function documentReader<T extends VersionedChannelDocument>(
  keyOf: (channel: string) => string,
  validate: (document: unknown, key: string, channel: string) => T,
  empty: (channel: string) => T,
  maxBytes: number,
) {
  return async (source: UpdateSource, channel: string, publicKeys: TrustedKeys): Promise<{ document: T; key: string; signed: boolean }> => {
    const key = keyOf(channel);
    const read = await readSignedJson(source, key, publicKeys, maxBytes);
    return read ? { document: validate(read.document, key, channel), key, signed: read.signed } : { document: empty(channel), key, signed: false };
  };
}

/** What a device reads at most: the publishers' cap, and room for the signatures added after it was checked. */
const SIGNATURES_ROOM = 8 * 1024;

export const readSwitchesDocument = documentReader<SwitchesDocument>(switchesKey, validateSwitches, emptySwitches, SWITCHES_MAX_BYTES + SIGNATURES_ROOM);
export const readAppReleasesDocument = documentReader<AppReleasesDocument>(
  appReleasesKey,
  validateAppReleases,
  emptyAppReleases,
  APP_RELEASES_MAX_BYTES + SIGNATURES_ROOM,
);
