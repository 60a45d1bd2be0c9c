import { isExpired } from '../protocol/serving-window.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempFolder, removeStaleTempFolders } from '../temp-folders.js';
import { appReleasesKey, archiveKey, channelIndexKey, manifestKey, switchesKey } from '../protocol/layout.js';
import { readAppReleasesDocument, readSwitchesDocument } from '../client/fetch/channel-documents.js';
import { encryptionKeyId } from '../protocol/encryption.js';
import { buildTree } from '../client/fetch/build-tree.js';
import { readChannelIndex, readManifestAt, readReleaseManifest, type TrustedKeys } from '../client/fetch/documents.js';
import { downloadObject, downloadPackage } from '../client/fetch/download.js';
import { DamagedBaseError, IntegrityError, ProtocolError } from '../client/errors.js';
import type { UpdateSource } from '../client/fetch/source.js';
import { watchedSource } from '../client/fetch/watched-source.js';
import type { FilePatch, Manifest, Release, StoredObject } from '../protocol/types.js';

/** Releases checked at the same time. */
const RELEASES_VERIFIED_AT_ONCE = 4;

/** One thing wrong (or not checkable), by the object key it concerns. */
export interface VerifyProblem {
  key: string;
  problem: string;
}

export interface VerifyReport {
  problems: VerifyProblem[];
  /** What could not be checked, and why (e.g. encrypted and no key given). */
  skipped: VerifyProblem[];
  checked: { channels: number; releases: number; objects: number; fullPackagesUnpacked: number; deltasRebuilt: number; signatures: boolean };
}

export interface VerifyOptions {
  /** With trusted keys, every index and manifest must carry a valid signature. */
  publicKeys?: TrustedKeys;
  /** Needed to rebuild deltas of encrypted packages. */
  decryptionKeys?: readonly Buffer[];
  /**
   * A channel's archived releases of a package (publisher side: the archive
   * is the store's, not the device protocol's). Checked too, because rollback
   * and halt can make them reachable again.
   */
  archivedReleases?: (channel: string, packageId: string) => Promise<Release[]>;
  /**
   * Whether an error is a finding to list rather than a failure of the run
   * (default: the device library's own errors). The CLI adds its store's
   * errors: an object it cannot read is a problem of that object.
   */
  isFinding?: (error: unknown) => boolean;
  /** When expiry is judged (default: now). */
  now?: Date;
  /** Called as each release is checked (for a progress line). */
  onRelease?: (channel: string, packageId: string, version: string) => void;
  /** Bytes of package objects checked so far, of the total the indexes list (each object counted once). */
  onProgress?: (doneBytes: number, totalBytes: number) => void;
  /** Aborted (Ctrl-C): the check stops at once, mid-download included, and rejects with the signal's reason. */
  signal?: AbortSignal;
  /** Where packages are unpacked to be checked (the run's temp folder). */
  tempRoot: string;
}

/**
 * Checks every release of the given channels as a device would see it: each
 * index and manifest present, consistent and validly signed (switches and app
 * releases too, where the channel has them); each package
 * object present with the listed size and SHA-256; each delta, applied to its
 * base version's full package, rebuilding its target file for file. Lists
 * every problem instead of stopping at the first.
 */
export async function verifyReleases(origin: UpdateSource, channels: readonly string[], options: VerifyOptions): Promise<VerifyReport> {
  const { publicKeys, decryptionKeys = [], isFinding = (error: unknown) => error instanceof ProtocolError, now = new Date(), signal } = options;
  let doneBytes = 0;
  let totalBytes = 0;
  const source = watchedSource(origin, signal);
  // Only the objects' own checks count towards progress (delta rebuilds read some objects again).
  const countedSource = watchedSource(origin, signal, (bytes) => options.onProgress?.((doneBytes += bytes), totalBytes));
  await removeStaleTempFolders(options.tempRoot);
  const work = await makeTempFolder('verify', options.tempRoot);
  const problems = new Map<string, VerifyProblem>();
  const skipped: VerifyProblem[] = [];
  const checked = { channels: 0, releases: 0, objects: 0, fullPackagesUnpacked: 0, deltasRebuilt: 0, signatures: Boolean(publicKeys && ('threshold' in publicKeys ? publicKeys.keys.length : publicKeys.length)) };
  const record = (key: string, problem: string) => problems.set(`${key}\n${problem}`, { key, problem });
  const recordError = (error: unknown, key: string) => {
    // An interruption is no finding about the object being read.
    if (signal?.aborted) throw signal.reason;
    if (error instanceof IntegrityError) record(error.key, error.problem);
    else if (isFinding(error)) record(key, (error as Error).message);
    else throw error;
  };
  const knownKeyIds = new Set(decryptionKeys.map(encryptionKeyId));
  const canOpen = (manifest: Manifest, key: string) => {
    if (!manifest.encryption || knownKeyIds.has(manifest.encryption.keyId)) return true;
    skipped.push({ key, problem: `not rebuilt: encrypted with key ${manifest.encryption.keyId} and no such decryption key was given` });
    return false;
  };

  // An object shared by several channels is fetched and hashed once.
  const objectChecks = new Map<string, Promise<boolean>>();
  const checkObject = (object: StoredObject) => {
    let check = objectChecks.get(object.key);
    if (!check) {
      checked.objects++;
      const target = join(work, `object-${objectChecks.size}`);
      check = downloadObject(countedSource, object, target)
        .then(() => true, (error: unknown) => (recordError(error, object.key), false))
        .finally(() => rm(target, { force: true }));
      objectChecks.set(object.key, check);
    }
    return check;
  };

  /** Manifest SHA-256 by release, from the index and archive entries checked: base manifests are bound by them. */
  const listedManifests = new Map<string, string>();
  /**
   * A base version's files, unpacked once for every delta built on it (each delta used to
   * download and unpack its base's full package again); kept until the end of the run.
   */
  const baseTrees = new Map<string, Promise<{ base: Manifest; tree?: string }>>();
  const unpackedBase = (packageId: string, from: string) => {
    const baseKey = manifestKey(packageId, from);
    let unpacked = baseTrees.get(baseKey);
    if (!unpacked) {
      unpacked = (async () => {
        const base = await readManifestAt(source, baseKey, publicKeys, listedManifests.get(baseKey));
        if (base.encryption && !knownKeyIds.has(base.encryption.keyId)) return { base };
        const dir = await mkdtemp(join(work, 'base-'));
        const baseZip = await downloadPackage(source, base, base.full, join(dir, 'base'), decryptionKeys);
        await buildTree(base, { kind: 'full', zipPath: baseZip.zipPath, objectKey: base.full.key }, join(dir, 'tree'));
        await rm(baseZip.zipPath, { force: true });
        return { base, tree: join(dir, 'tree') };
      })();
      unpacked.catch(() => {}); // awaited by each delta on this base
      baseTrees.set(baseKey, unpacked);
    }
    return unpacked;
  };

  /** A delta (or its patched form, with `patches`) applied to its base's full package must give exactly the manifest's files. */
  const rebuildDelta = async (packageId: string, manifest: Manifest, from: string, delta: StoredObject, patches?: FilePatch[]) => {
    if (!(await checkObject(delta)) || !canOpen(manifest, delta.key)) return;
    const dir = await mkdtemp(join(work, 'rebuild-'));
    try {
      const { base, tree: baseTree } = await unpackedBase(packageId, from);
      if (!canOpen(base, delta.key) || !baseTree) return;
      const deltaZip = await downloadPackage(source, manifest, delta, join(dir, 'delta'), decryptionKeys);
      await buildTree(manifest, { kind: 'delta', zipPath: deltaZip.zipPath, objectKey: delta.key, baseDir: baseTree, patches }, join(dir, 'tree'));
      checked.deltasRebuilt++;
    } catch (error) {
      const why = `does not rebuild ${manifest.version} from ${from}`;
      if (error instanceof DamagedBaseError) record(delta.key, `${why}: ${from}'s file ${JSON.stringify(error.path)} differs from ${manifest.version}'s and the delta does not carry it`);
      else if (error instanceof IntegrityError && error.key === delta.key) record(delta.key, `${why}: ${error.problem}`);
      else recordError(error, delta.key);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  /** A full package is checked as a fresh device installs it: downloaded, hashed, and every entry unpacked against the manifest. */
  const unpackFull = async (manifest: Manifest): Promise<boolean> => {
    const { full } = manifest;
    const dir = await mkdtemp(join(work, 'unpack-'));
    try {
      const zip = await downloadPackage(countedSource, manifest, full, join(dir, 'full'), decryptionKeys);
      try {
        await buildTree(manifest, { kind: 'full', zipPath: zip.zipPath, objectKey: full.key }, join(dir, 'tree'));
        checked.fullPackagesUnpacked++;
      } catch (error) {
        recordError(error, full.key);
      }
      return true;
    } catch (error) {
      recordError(error, full.key);
      return false;
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };
  const checkFull = (manifest: Manifest) => {
    // Without its decryption key only the stored bytes can be checked.
    if (!canOpen(manifest, manifest.full.key)) return checkObject(manifest.full);
    let check = objectChecks.get(manifest.full.key);
    if (!check) {
      checked.objects++;
      check = unpackFull(manifest);
      objectChecks.set(manifest.full.key, check);
    }
    return check;
  };

  const verifyRelease = async (packageId: string, release: Release) => {
    checked.releases++;
    let manifest: Manifest | undefined;
    try {
      manifest = await readReleaseManifest(source, packageId, release);
    } catch (error) {
      recordError(error, release.manifest.key);
    }
    if (!manifest) {
      // Without a trustworthy manifest, the index's own listing still says what must be there.
      for (const object of [release.full, ...release.deltas, ...release.deltas.flatMap((delta) => delta.patched ?? [])]) await checkObject(object);
      return;
    }
    await checkFull(manifest);
    for (const delta of manifest.deltas) await checkObject(delta);
    for (const delta of manifest.deltas) {
      await rebuildDelta(packageId, manifest, delta.from, delta);
      if (delta.patched) await rebuildDelta(packageId, manifest, delta.from, delta.patched, delta.patched.patches);
    }
  };

  try {
    // Every index first: a delta's base manifest is bound by the SHA-256 its release entry lists, on whichever channel,
    // and progress knows the bytes to check.
    const toVerify: { channel: string; packageId: string; release: Release }[] = [];
    for (const channel of channels) {
      checked.channels++;
      // Switches and app releases: what is there must read and verify as devices read it.
      let otherDocuments = false;
      for (const [read, key] of [[readSwitchesDocument, switchesKey], [readAppReleasesDocument, appReleasesKey]] as const) {
        const found = await read(source, channel, publicKeys).catch((error: unknown) => recordError(error, key(channel)));
        otherDocuments ||= found === undefined || found.document.version > 0;
        if (found && isExpired(found.document, now)) {
          record(key(channel), `expired at ${found.document.expires}: devices refuse it; run 'update-publish refresh --channel ${channel}'`);
        }
      }
      // A channel of switches or app releases alone has no packages to check.
      if (otherDocuments && !(await source.readDocument(channelIndexKey(channel)))) continue;
      let index;
      try {
        ({ index } = await readChannelIndex(source, channel, publicKeys));
      } catch (error) {
        recordError(error, channelIndexKey(channel));
        continue;
      }
      // Devices refuse an expired index: every release of the channel is unreachable until a refresh.
      if (isExpired(index, now)) {
        record(channelIndexKey(channel), `expired at ${index.expires}: devices refuse it; run 'update-publish refresh --channel ${channel}'`);
      }
      for (const [packageId, { releases }] of Object.entries(index.packages)) {
        let archived: Release[] = [];
        try {
          archived = (await options.archivedReleases?.(channel, packageId)) ?? [];
        } catch (error) {
          recordError(error, archiveKey(channel, packageId));
        }
        for (const release of [...releases, ...archived]) {
          toVerify.push({ channel, packageId, release });
          listedManifests.set(release.manifest.key, release.manifest.sha256);
        }
      }
    }
    const sizes = new Map(toVerify.flatMap(({ release }) => [release.full, ...release.deltas]).map((object) => [object.key, object.size]));
    totalBytes = [...sizes.values()].reduce((sum, size) => sum + size, 0);
    // Several releases at once: a store's latency (S3) and one core's hashing no longer add up release after release.
    let next = 0;
    let failure: { error: unknown } | undefined;
    const worker = async () => {
      while (next < toVerify.length && !failure) {
        const { channel, packageId, release } = toVerify[next++]!;
        try {
          signal?.throwIfAborted();
          options.onRelease?.(channel, packageId, release.version);
          await verifyRelease(packageId, release);
        } catch (error) {
          failure ??= { error };
        }
      }
    };
    // Every check ends before the work folder goes; the first failure (Ctrl-C included) is the run's.
    await Promise.all(Array.from({ length: Math.min(RELEASES_VERIFIED_AT_ONCE, toVerify.length) }, worker));
    if (failure) throw failure.error;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // Found in whatever order the concurrent checks ended: listed in a stable one.
  const byKey = (a: VerifyProblem, b: VerifyProblem) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.problem < b.problem ? -1 : a.problem > b.problem ? 1 : 0);
  return { problems: [...problems.values()].sort(byKey), skipped: skipped.sort(byKey), checked };
}
