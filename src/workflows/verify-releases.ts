import pLimit from 'p-limit';
import { isExpired } from '../protocol/serving-window.js';
import { assertBoundDocument, type BoundDocument } from '../protocol/document-binding.js';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempFolder, removeStaleTempFolders } from '../temp-folders.js';
import { appReleasesKey, archiveKey, channelIndexKey, manifestKey, packagesPrefix, switchesKey } from '../protocol/layout.js';
import { readAppReleasesDocument, readSwitchesDocument } from '../client/fetch/channel-documents.js';
import { encryptionKeyId } from '../protocol/encryption.js';
import { readChannelIndex, readManifestAt, readReleaseManifest, type TrustedKeys } from '../client/fetch/documents.js';
import { missingObject } from '../client/fetch/download.js';
import { DamagedBaseError, IntegrityError, ProtocolError } from '../client/errors.js';
import type { UpdateSource } from '../client/fetch/source.js';
import { watchedSource } from '../client/fetch/watched-source.js';
import type { FilePatch, Manifest, Release, StoredObject } from '../protocol/types.js';
import { assertBaseCarriesTheRest, assertHoldsEveryFile, checkStoredObject, type EntriesResult, type PackageEntriesCheck } from './verify-package.js';

/**
 * Package objects read at the same time: a store's latency and its pace per
 * connection overlap, and hashing on this side keeps pace with the reads.
 */
const OBJECTS_CHECKED_AT_ONCE = 4;
/** Manifests read at the same time (small documents: latency is all they cost). */
const MANIFESTS_READ_AT_ONCE = 8;

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
  /** Where the base files patches apply to are kept while they are checked (the run's temp folder). */
  tempRoot: string;
}

/** A delta to check against its base version: `patches` for the patched form. */
interface DeltaCheck {
  packageId: string;
  manifest: Manifest;
  from: string;
  object: StoredObject;
  patches?: FilePatch[];
}

/** Runs the tasks, at most `concurrency` at a time, in order; the first failure stops the rest and is thrown once all under way have ended. */
async function runBounded<T>(items: readonly T[], concurrency: number, task: (item: T) => Promise<void>, signal?: AbortSignal): Promise<void> {
  const limit = pLimit(concurrency);
  let failure: { error: unknown } | undefined;
  await Promise.all(
    items.map((item) =>
      limit(async () => {
        if (failure) return;
        try {
          signal?.throwIfAborted();
          await task(item);
        } catch (error) {
          failure ??= { error };
        }
      }),
    ),
  );
  if (failure) throw failure.error;
}

/** The source with each manifest read once per run: a base version's manifest is often a release's too. */
function readingManifestsOnce(source: UpdateSource): UpdateSource {
  const documents = new Map<string, Promise<Buffer | null>>();
  return {
    ...source,
    async readDocument(key, maxBytes) {
      // Only a package's own documents, which never change once written: an index may be re-read on purpose.
      if (!key.startsWith(packagesPrefix)) return source.readDocument(key, maxBytes);
      let read = documents.get(key);
      if (!read) documents.set(key, (read = source.readDocument(key, maxBytes)));
      const body = await read;
      if (body && maxBytes !== undefined && body.length > maxBytes) {
        throw new ProtocolError(`${key} is larger than the ${maxBytes} bytes a device reads for it: refused (an endless or swapped document)`);
      }
      return body;
    },
    openObject: (key, size) => source.openObject(key, size),
  };
}

/**
 * Checks every release of the given channels as a device would see it: each
 * index and manifest present, consistent and validly signed (switches and app
 * releases too, where the channel has them); each package object present
 * with the listed size and SHA-256, every entry of a full package as the
 * manifest lists it; each delta, applied to its base version, giving its
 * target's files exactly. Lists every problem instead of stopping at the first.
 *
 * Each object is read once, and checked as it streams in: a full package's
 * entries are inflated and hashed in memory; a delta's entries are checked
 * against its target's manifest, and every file it does not carry against
 * its base's manifest (whose full package is checked too), so no tree is
 * built. Only the base files patches apply to are kept on disk.
 */
export async function verifyReleases(origin: UpdateSource, channels: readonly string[], options: VerifyOptions): Promise<VerifyReport> {
  const { publicKeys, decryptionKeys = [], isFinding = (error: unknown) => error instanceof ProtocolError, now = new Date(), signal } = options;
  let doneBytes = 0;
  let totalBytes = 0;
  const source = readingManifestsOnce(watchedSource(origin, signal));
  const countedSource = watchedSource(origin, signal, (bytes) => options.onProgress?.((doneBytes += bytes), totalBytes));
  await removeStaleTempFolders(options.tempRoot);
  // Real path: patches read their base files only from inside it, by real path.
  const work = await realpath(await makeTempFolder('verify', options.tempRoot));
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
  const opens = (manifest: Manifest) => !manifest.encryption || knownKeyIds.has(manifest.encryption.keyId);
  const skip = (key: string, manifest: Manifest) =>
    skipped.push({ key, problem: `not rebuilt: encrypted with key ${manifest.encryption!.keyId} and no such decryption key was given` });
  const decryption = (manifest: Manifest) => (manifest.encryption ? { keys: decryptionKeys, keyId: manifest.encryption.keyId } : undefined);
  const filesOf = (manifest: Manifest) => new Map(manifest.files.map((file) => [file.path, file]));

  /** Reads the object once; its stored bytes' failures are recorded here (false), its entries' result returned. */
  async function readObject(object: StoredObject, entries?: PackageEntriesCheck): Promise<EntriesResult | undefined | false> {
    try {
      const stream = await countedSource.openObject(object.key, object.size);
      if (!stream) throw missingObject(object);
      return entries ? await checkStoredObject(stream, object, entries) : await checkStoredObject(stream, object);
    } catch (error) {
      recordError(error, object.key);
      return false;
    }
  }

  /** Whether each full package checked is sound, entries included, by key; set as its check starts, so a delta can wait for its base's. */
  const fullChecks = new Map<string, Promise<boolean>>();
  /** Where a base version's files that patches apply to were kept, by its full package's key. */
  const keptBaseFiles = new Map<string, string>();

  /** A full package as a fresh device installs it: the object, and every entry against the manifest. */
  async function checkFull(manifest: Manifest, keep: ReadonlySet<string>): Promise<boolean> {
    const { full } = manifest;
    // Without its decryption key only the stored bytes can be checked.
    if (!opens(manifest)) {
      skip(full.key, manifest);
      await readObject(full);
      return false;
    }
    const keepDir = keep.size ? await mkdtemp(join(work, 'base-')) : undefined;
    if (keepDir) keptBaseFiles.set(full.key, keepDir);
    const result = await readObject(full, { files: filesOf(manifest), keep: keepDir ? { paths: keep, dir: keepDir } : undefined, decryption: decryption(manifest) });
    if (!result) return false;
    try {
      if ('error' in result) throw result.error;
      assertHoldsEveryFile(full.key, manifest.files, result.paths);
    } catch (error) {
      recordError(error, full.key);
      return false;
    }
    checked.fullPackagesUnpacked++;
    return true;
  }

  /** A delta (or its patched form) with its base version's files must give exactly its target's files. */
  async function checkDelta({ packageId, manifest, from, object, patches }: DeltaCheck, base: Manifest | { error: unknown }): Promise<void> {
    const baseSound = 'error' in base || !opens(base) ? false : await fullChecks.get(base.full.key)!;
    const rebuildable = opens(manifest) && baseSound;
    const baseFiles = !('error' in base) ? filesOf(base) : undefined;
    const result = await readObject(
      object,
      rebuildable
        ? { files: filesOf(manifest), patches: patches?.length ? { listings: new Map(patches.map((patch) => [patch.path, patch])), baseDir: keptBaseFiles.get((base as Manifest).full.key) ?? work } : undefined, decryption: decryption(manifest) }
        : undefined,
    );
    if (result === false) return;
    if (!opens(manifest)) return void skip(object.key, manifest);
    if ('error' in base) return recordError(base.error, object.key);
    if (!opens(base)) return void skip(object.key, base);
    // The base's own check says what is wrong with it.
    if (!result) return;
    const why = `does not rebuild ${manifest.version} from ${from}`;
    try {
      if ('error' in result) throw result.error;
      assertBaseCarriesTheRest(manifest.files, result.paths, baseFiles!);
      checked.deltasRebuilt++;
    } catch (error) {
      if (error instanceof DamagedBaseError) record(object.key, `${why}: ${from}'s file ${JSON.stringify(error.path)} differs from ${manifest.version}'s and the delta does not carry it`);
      else if (error instanceof IntegrityError && error.key === object.key) record(object.key, `${why}: ${error.problem}`);
      else recordError(error, object.key);
    }
  }

  try {
    // 1. Every index: a delta's base manifest is bound by the SHA-256 its release entry lists, on whichever channel.
    const toVerify: { channel: string; packageId: string; release: Release }[] = [];
    /** Manifest SHA-256 by release, from the index and archive entries checked: base manifests are bound by them. */
    const listedManifests = new Map<string, string>();
    for (const channel of channels) {
      checked.channels++;
      // Switches and app releases: what is there must read and verify as devices read it.
      let otherDocuments = false;
      const boundDocuments: { name: BoundDocument; key: string; version: number }[] = [];
      for (const [read, key, name] of [[readSwitchesDocument, switchesKey, 'switches'], [readAppReleasesDocument, appReleasesKey, 'appReleases']] as const) {
        const found = await read(source, channel, publicKeys).catch((error: unknown) => recordError(error, key(channel)));
        otherDocuments ||= found === undefined || found.document.version > 0;
        if (found) boundDocuments.push({ name, key: key(channel), version: found.document.version });
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
      // Devices refuse a switches or app-releases document other than the version the index names.
      for (const { name, key, version } of boundDocuments) {
        try {
          assertBoundDocument(index, name, { version }, key);
        } catch (error) {
          record(key, `${(error as IntegrityError).problem}: devices refuse it; restore the version the index names, or run 'update-publish refresh --channel ${channel}' if this is the newest`);
        }
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

    // 2. Every manifest, and the base manifests deltas build on: what each object must hold is known before any is read.
    const fulls = new Map<string, { manifest: Manifest; keep: Set<string> }>();
    const deltas = new Map<string, DeltaCheck>();
    const plain = new Map<string, StoredObject>();
    const bases = new Map<string, Promise<Manifest | { error: unknown }>>();
    const baseOf = (packageId: string, from: string) => {
      const key = manifestKey(packageId, from);
      let base = bases.get(key);
      if (!base) bases.set(key, (base = readManifestAt(source, key, publicKeys, listedManifests.get(key)).catch((error: unknown) => ({ error }))));
      return base;
    };
    await runBounded(
      toVerify,
      MANIFESTS_READ_AT_ONCE,
      async ({ channel, packageId, release }) => {
        checked.releases++;
        options.onRelease?.(channel, packageId, release.version);
        let manifest: Manifest;
        try {
          manifest = await readReleaseManifest(source, packageId, release);
        } catch (error) {
          recordError(error, release.manifest.key);
          // Without a trustworthy manifest, the index's own listing still says what must be there.
          for (const object of [release.full, ...release.deltas, ...release.deltas.flatMap((delta) => delta.patched ?? [])]) plain.set(object.key, object);
          return;
        }
        if (!fulls.has(manifest.full.key)) fulls.set(manifest.full.key, { manifest, keep: new Set() });
        for (const delta of manifest.deltas) {
          deltas.set(delta.key, { packageId, manifest, from: delta.from, object: delta });
          if (delta.patched) deltas.set(delta.patched.key, { packageId, manifest, from: delta.from, object: delta.patched, patches: delta.patched.patches });
          await baseOf(packageId, delta.from);
        }
      },
      signal,
    );
    // A delta's base is checked whole (its full package) once, keeping the files patches apply to.
    for (const delta of deltas.values()) {
      const base = await baseOf(delta.packageId, delta.from);
      if ('error' in base) continue;
      const full = fulls.get(base.full.key) ?? { manifest: base, keep: new Set<string>() };
      fulls.set(base.full.key, full);
      for (const patch of delta.patches ?? []) full.keep.add(patch.path);
    }
    for (const key of [...fulls.keys(), ...deltas.keys()]) plain.delete(key);

    // 3. Every object once, several at a time: full packages first, so a delta's base is under way before the delta waits for it.
    const objects = [...[...fulls.values()].map(({ manifest }) => manifest.full), ...[...deltas.values()].map(({ object }) => object), ...plain.values()];
    checked.objects = objects.length;
    totalBytes = objects.reduce((sum, object) => sum + object.size, 0);
    const jobs: (() => Promise<void>)[] = [
      ...[...fulls].map(([key, { manifest, keep }]) => async () => {
        const check = checkFull(manifest, keep);
        fullChecks.set(key, check);
        await check;
      }),
      ...[...deltas.values()].map((delta) => async () => checkDelta(delta, await baseOf(delta.packageId, delta.from))),
      ...[...plain.values()].map((object) => async () => void (await readObject(object))),
    ];
    await runBounded(jobs, OBJECTS_CHECKED_AT_ONCE, (job) => job(), signal);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  // Found in whatever order the concurrent checks ended: listed in a stable one.
  const byKey = (a: VerifyProblem, b: VerifyProblem) => (a.key < b.key ? -1 : a.key > b.key ? 1 : a.problem < b.problem ? -1 : a.problem > b.problem ? 1 : 0);
  return { problems: [...problems.values()].sort(byKey), skipped: skipped.sort(byKey), checked };
}
