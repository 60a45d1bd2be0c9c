import pLimit from 'p-limit';
import { ConflictError, StoreError } from '../errors.js';
import { IntegrityError } from '../protocol/errors.js';
import { claimKey, manifestKey, packagePrefix } from '../protocol/layout.js';
import { claimedContent, parseManifest, serializeClaim, serializeDocument } from '../protocol/manifest.js';
import { writeOnce } from './update-document.js';
import type { Manifest, TargetingRules, VersionClaim } from '../protocol/types.js';
import { READ_CONCURRENCY, type Store } from '../store/store.js';
import { packageReleases } from './archive.js';
import { APP_RELEASES } from './app-releases-store.js';
import { listChannelFolders, listChannels, readIndex } from './index-store.js';
import { SWITCHES } from './switches-store.js';
import { readChannelDocument } from './versioned-document.js';

const MANIFEST_FILE = 'manifest.json';
const CLAIM_FILE = 'claim.json';

/* What the store holds of each package version (manifests, claims), across channels: read, and written once. */

/** Channels whose index or archive holds this version of a package. */
export async function channelsReleasing(store: Store, id: string, version: string): Promise<string[]> {
  const channels: string[] = [];
  for (const channel of await listChannels(store)) {
    const { index } = await readIndex(store, channel);
    const releases = await packageReleases(store, index, id);
    if (releases.some((release) => release.version === version)) channels.push(channel);
  }
  return channels;
}

/**
 * What devices are served that names this whitelist, as `maps@1.0.1 on production`,
 * `switch newCheckout variant 2 on production`, `app release ios@3.2.0 on production`.
 */
export async function releasesNamingWhitelist(store: Store, name: string): Promise<string[]> {
  const named: string[] = [];
  const names = (rules: TargetingRules) => rules.whitelist?.includes(name);
  for (const channel of await listChannelFolders(store)) {
    const { index } = await readIndex(store, channel);
    for (const [id, { releases }] of Object.entries(index.packages)) {
      for (const release of releases) if (release.state === 'active' && names(release.rules)) named.push(`${id}@${release.version} on ${channel}`);
    }
    const { document: switches } = await readChannelDocument(store, SWITCHES, channel);
    for (const [key, entry] of Object.entries(switches.switches)) {
      entry.variants.forEach((variant, at) => names(variant.rules) && named.push(`switch ${key} variant ${at + 1} on ${channel}`));
    }
    const { document: appReleases } = await readChannelDocument(store, APP_RELEASES, channel);
    for (const [platform, { releases }] of Object.entries(appReleases.platforms)) {
      for (const release of releases) if (release.state === 'active' && names(release.rules)) named.push(`app release ${platform}@${release.version} on ${channel}`);
    }
  }
  return named;
}

export async function readManifest(store: Store, id: string, version: string): Promise<{ manifest: Manifest; body: Buffer }> {
  const key = manifestKey(id, version);
  const document = await store.readDocument(key);
  if (!document) throw new StoreError(`manifest ${key} is missing from the store; run 'update-publish verify'`);
  try {
    return { manifest: parseManifest(document.body, key), body: document.body };
  } catch (error) {
    if (error instanceof IntegrityError) throw new StoreError(`manifest ${key} ${error.problem}; run 'update-publish verify'`);
    throw error;
  }
}


export interface StoredVersions {
  /** Complete versions (their manifest is stored), on a channel or not. */
  manifests: Manifest[];
  /** Versions claimed by a run that stopped before writing the manifest. */
  unfinished: VersionClaim[];
}

/** Every version of a package the store holds, finished or not: all of them are taken. */
export async function readStoredVersions(store: Store, id: string): Promise<StoredVersions> {
  const prefix = packagePrefix(id);
  const files = new Map<string, Set<string>>();
  for (const { key } of await store.list(prefix)) {
    const [version, name, ...rest] = key.slice(prefix.length).split('/');
    if (rest.length === 0 && name) files.set(version, (files.get(version) ?? new Set()).add(name));
  }
  const limit = pLimit(READ_CONCURRENCY);
  const versions = [...files.keys()];
  const manifests = await Promise.all(
    versions
      .filter((version) => files.get(version)!.has(MANIFEST_FILE))
      .map((version) => limit(async () => (await readManifest(store, id, version)).manifest)),
  );
  const unfinished = await Promise.all(
    versions
      .filter((version) => !files.get(version)!.has(MANIFEST_FILE) && files.get(version)!.has(CLAIM_FILE))
      .map((version) => limit(() => readClaim(store, id, version))),
  );
  return { manifests, unfinished: unfinished.filter((claim): claim is VersionClaim => claim !== null) };
}

async function readClaim(store: Store, id: string, version: string): Promise<VersionClaim | null> {
  const document = await store.readDocument(claimKey(id, version));
  return document && { version, contentSha256: claimedContent(document.body) };
}

/**
 * Makes this run the owner of a version before any of its objects is written,
 * so two publishers that picked the same number never overwrite each other's
 * packages. A claim for the same content is ours (a rerun) or identical.
 */
export async function claimVersion(store: Store, manifest: Manifest): Promise<void> {
  try {
    await writeOnce(
      store,
      claimKey(manifest.id, manifest.version),
      serializeClaim(manifest),
      (existing) => claimedContent(existing) === manifest.contentSha256,
      `package '${manifest.id}': version ${manifest.version} was just taken by another publisher with other content; run the command again`,
    );
  } catch (error) {
    if (error instanceof ConflictError) throw new VersionTakenError(error.message);
    throw error;
  }
}

/** Another publisher owns the version this run picked (exit 3 when it cannot pick another). */
export class VersionTakenError extends ConflictError {}

/** Writes a manifest once; an identical one already there (a resumed or concurrent run) is kept. */
export async function writeManifest(store: Store, manifest: Manifest): Promise<{ sha256: string; size: number }> {
  const key = manifestKey(manifest.id, manifest.version);
  const sameContent = (existing: Buffer) => {
    try {
      return parseManifest(existing, key).contentSha256 === manifest.contentSha256;
    } catch {
      return false;
    }
  };
  return writeOnce(
    store,
    key,
    serializeDocument(manifest),
    sameContent,
    `package '${manifest.id}': version ${manifest.version} was just published with other content by someone else; run the command again`,
  );
}
