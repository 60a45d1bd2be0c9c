import { z } from 'zod';
import {
  emptyChannelDocument,
  parseChannelDocumentJson,
  validateChannelDocument,
  versionedChannelDocumentSchema,
  type VersionedChannelDocument,
} from './channel-document.js';
import { releaseRulesSchema, timeSchema, versionSchema } from './schemas.js';
import type { ReleaseRules } from './types.js';

/**
 * `channels/<channel>/app-releases.json`: app-upgrade notices. Per platform,
 * the app binaries in the store, newest version first; a device below one
 * that targets it is told to upgrade (client/app-upgrade.ts).
 */
export type AppReleaseState = 'active' | 'halted';

export interface AppRelease {
  /** The binary's version (semver). */
  version: string;
  /** Where the binary is: the store page (https only). */
  url: string;
  /** Devices below this version must upgrade. */
  minSupported?: string;
  /** Shown to the user with the notice. */
  message?: string;
  releasedAt: string;
  /** halted: told to nobody. */
  state: AppReleaseState;
  /** Who is told (the platform is the release's own); `mandatory` forces the upgrade. */
  rules: ReleaseRules;
}

export interface AppReleasesDocument extends VersionedChannelDocument {
  /** Releases per platform, newest version first. */
  platforms: Record<string, { releases: AppRelease[] }>;
}

export const APP_RELEASES_MAX_BYTES = 64 * 1024;

/** A store URL devices may open: https, nothing else (an http:// page can be swapped on the way). */
export function isHttpsUrl(text: string): boolean {
  try {
    return new URL(text).protocol === 'https:';
  } catch {
    return false;
  }
}

const appReleaseSchema = z.looseObject({
  version: versionSchema,
  url: z.string().refine(isHttpsUrl, 'not an https URL'),
  minSupported: versionSchema.optional(),
  message: z.string().optional(),
  releasedAt: timeSchema,
  state: z.enum(['active', 'halted']),
  rules: releaseRulesSchema,
});

const appReleasesSchema = versionedChannelDocumentSchema.extend({
  platforms: z.record(z.string(), z.looseObject({ releases: z.array(appReleaseSchema) })),
});

export const emptyAppReleases = (channel: string): AppReleasesDocument => ({ ...emptyChannelDocument(channel), platforms: {} });

/** The one reader of an app-releases document, already parsed from JSON (devices check its signatures on that form first). */
export const validateAppReleases = (document: unknown, key: string, channel: string): AppReleasesDocument =>
  validateChannelDocument<AppReleasesDocument>(document, key, channel, appReleasesSchema);

/** A stored app-releases document, read as publishers read it. */
export const parseAppReleases = (body: Buffer, key: string, channel: string): AppReleasesDocument => validateAppReleases(parseChannelDocumentJson(body, key), key, channel);
