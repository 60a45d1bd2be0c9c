import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Manifest, Release, ReleaseRules } from '../protocol/types.js';
import type { Config } from '../config/schema.js';
import { countChanges, diffFiles, type FileChanges } from '../release/diff.js';
import { planDeltas } from '../release/delta-plan.js';
import { ConflictError, UserError } from '../errors.js';
import type { ReleaseEvent } from '../protocol/release-event.js';
import { buildPackages, type BuiltPackages } from '../pack/build-packages.js';
import { toManifestFiles } from '../pack/hash-files.js';
import { sha256Hex } from '../hash.js';
import { contentSha256, serializeDocument } from '../protocol/manifest.js';
import { channelsReleasing, readStoredVersions } from '../channel/catalog.js';
import { recordPublish } from '../channel/history.js';
import { readArchivedReleases, withArchivedReleases } from '../channel/archive.js';
import { readIndex, updateIndex } from '../channel/index-store.js';
import { findRelease, upsertRelease } from '../protocol/channel-index.js';
import type { Bump } from '../release/version.js';
import { claimKey, contentTypeOf, IMMUTABLE_CACHE, manifestKey } from '../protocol/layout.js';
import type { Store } from '../store/store.js';
import { uploadObjects } from '../store/upload.js';
import type { Output } from '../cli/output.js';
import { formatBytes } from '../format.js';
import { encryptionKeyFor, signerFor } from '../keys/publisher-keys.js';
import { decidePackage } from '../release/decide.js';
import { readPackageFiles } from '../pack/package-files.js';
import { releaseEvent } from './release-event.js';
import { adoptStoredManifest } from '../pack/stored-version.js';

export interface PublishRequest {
  packageIds: string[];
  channel: string;
  rules: ReleaseRules;
  version?: string;
  bump?: Bump;
}

export interface PublishedPackage {
  id: string;
  status: 'published' | 'unchanged';
  version: string;
  previousVersion: string | null;
  changes: { added: number; changed: number; removed: number };
  full: { key: string; size: number; sha256: string };
  deltas: { from: string; key: string; size: number; sha256: string }[];
  manifest: { key: string };
  rules: ReleaseRules;
}

export interface PublishOutcome {
  packages: PublishedPackage[];
  /** One per package whose release was written: what hooks are told. */
  events: ReleaseEvent[];
  uploaded: { objects: number; bytes: number; skipped: number };
}

interface Environment {
  config: Config;
  configDir: string;
  store: Store;
  output: Output;
  /** Shows everything and writes nothing: not even the local hash cache. */
  dryRun?: boolean;
  signal?: AbortSignal;
  /** Asked once everything is packed and before anything is written; false cancels. */
  confirm?: (summary: string) => Promise<boolean>;
}

/**
 * pack → diff → write packages and manifests → write the channel index last,
 * so a crash never exposes a release whose objects are missing. Every package
 * is planned (and every problem found) before anything is written.
 */
export async function publish(request: PublishRequest, env: Environment): Promise<PublishOutcome> {
  const { config, store, output } = env;
  // Keys are read before any work, so a missing one fails the run at once.
  const encryptionKey = encryptionKeyFor(config);
  await signerFor(config, env.configDir)?.();
  const snapshot = await readIndex(store, request.channel);

  // 1. Plan every package: scan, hash, decide. Nothing is written yet.
  const plans = [];
  for (const id of request.packageIds) {
    // Ctrl-C is honoured between steps too, not only at the first write (see interruptible-store).
    env.signal?.throwIfAborted();
    const files = await readPackageFiles(id, config.packages[id], env, { saveCache: !env.dryRun });
    const manifestFiles = toManifestFiles(files);
    const { manifests: storedManifests, unfinished } = await readStoredVersions(store, id);
    // Archived releases are still this channel's history: delta bases and "already released" checks see them.
    const archived = await readArchivedReleases(store, request.channel, id);
    const channelReleases = withArchivedReleases(snapshot.index, id, archived).packages[id]?.releases ?? [];
    const content = contentSha256(manifestFiles);
    // Only content already stored under a version raises "which channels release it?": ask the store then.
    const sameContent = storedManifests.find((manifest) => manifest.contentSha256 === content);
    const sameContentChannels = sameContent ? await channelsReleasing(store, id, sameContent.version) : [];
    const decision = decidePackage({
      id,
      channel: request.channel,
      contentSha256: content,
      channelReleases,
      storedManifests,
      unfinished,
      channelsOf: (version) => (version === sameContent?.version ? sameContentChannels : []),
      deltaCount: config.deltas,
      request: { version: request.version, bump: request.bump },
    });
    const previous = channelReleases.find((release) => release.state !== 'rolled-back');
    const previousManifest = storedManifests.find((manifest) => manifest.version === previous?.version);
    const changes = diffFiles(previousManifest?.files ?? [], manifestFiles);
    plans.push({ id, files, decision, previous, previousManifest, storedManifests, changes });
  }

  // 2. Pack what changed into a staging folder.
  const stagingDir = await mkdtemp(join(tmpdir(), 'update-publish-'));
  try {
    const built = new Map<string, BuiltPackages>();
    for (const plan of plans) {
      if (plan.decision.kind !== 'publish') continue;
      env.signal?.throwIfAborted();
      const { version, baseVersions } = plan.decision;
      const bases = baseVersions
        .map((from) => plan.storedManifests.find((manifest) => manifest.version === from))
        .filter((manifest): manifest is Manifest => manifest !== undefined);
      const step = output.step(`${plan.id}: packing ${version}`);
      const rebuilt = await buildPackages(plan.id, version, plan.files, planDeltas(toManifestFiles(plan.files), bases), stagingDir, {
        encryptionKey,
      });
      const stored = plan.storedManifests.find((manifest) => manifest.version === version);
      const packages = stored ? await adoptStoredManifest(store, rebuilt, stored) : rebuilt;
      step.succeed(
        `${plan.id}: packed ${version} (full ${formatBytes(packages.full.size)}${packages.deltas.map((delta) => `, delta from ${delta.from} ${formatBytes(delta.size)}`).join('')})`,
      );
      built.set(plan.id, packages);
    }

    if (built.size > 0 && env.confirm && !(await env.confirm(describePlans(plans, built)))) {
      throw new UserError('publish cancelled; nothing was written');
    }

    // 3. Claim each version, then upload the package objects the store does not have yet.
    for (const packages of built.values()) await claimVersion(store, packages.manifest);
    const items = [...built.values()].flatMap((packages) =>
      [packages.full, ...packages.deltas].map((object) => ({
        key: object.key,
        localPath: object.localPath,
        size: object.size,
        sha256: object.sha256,
        contentType: contentTypeOf(object.key),
        cacheControl: IMMUTABLE_CACHE,
      })),
    );
    let uploaded = { objects: 0, bytes: 0, skipped: 0 };
    if (items.length > 0) {
      const step = output.step(`uploading ${items.length} objects to ${store.location}`);
      const started = Date.now();
      const result = await uploadObjects(store, items, {
        concurrency: config.s3?.concurrency,
        signal: env.signal,
        onProgress: (done, total) => {
          const rate = done / Math.max(0.001, (Date.now() - started) / 1000);
          step.update(`uploading ${formatBytes(done)} / ${formatBytes(total)} (${formatBytes(rate)}/s)`);
        },
      });
      uploaded = { objects: result.uploaded.length, bytes: result.bytesUploaded, skipped: result.skipped.length };
      step.succeed(`uploaded ${result.uploaded.length} objects (${formatBytes(result.bytesUploaded)}), ${result.skipped.length} already in the store`);
    }

    // 4. Manifests (create-only: a version is written once), then the channel index.
    const releases = new Map<string, Release>();
    for (const [id, packages] of built) {
      const manifestSha256 = await writeManifest(store, packages.manifest);
      releases.set(id, {
        version: packages.manifest.version,
        releasedAt: new Date().toISOString(),
        manifest: { key: manifestKey(id, packages.manifest.version), sha256: manifestSha256 },
        full: packages.manifest.full,
        deltas: packages.manifest.deltas.map(({ from, key, size, sha256 }) => ({ from, key, size, sha256 })),
        rules: request.rules,
        state: 'active',
      });
    }
    let changedKeys: string[] = [];
    if (releases.size > 0) {
      const written = await updateIndex(store, request.channel, (index) =>
        [...releases].reduce((next, [id, release]) => {
          // Planning saw no such release here. Our own write retried after a lost reply finds itself
          // (its release time is this run's); anything else is a concurrent publisher of the same
          // content, whose rules must not be dropped.
          const present = findRelease(next, id, release.version);
          if (present?.releasedAt === release.releasedAt) return next;
          if (present) {
            throw new ConflictError(
              `package '${id}': ${release.version} was just released on '${request.channel}' by another publisher with the same content; run 'update-publish status' to see its rules`,
            );
          }
          return upsertRelease(next, id, release);
        }, index),
      );
      changedKeys = [written.key];
      await recordPublish(store, request.channel, releases, (line) => output.warn(line));
    }

    const packagesOut = plans.map((plan): PublishedPackage => {
      const previousVersion = plan.previous?.version ?? null;
      if (plan.decision.kind === 'unchanged') {
        const release = plan.decision.release;
        return {
          id: plan.id,
          status: 'unchanged',
          version: release.version,
          previousVersion,
          changes: { added: 0, changed: 0, removed: 0 },
          full: release.full,
          deltas: [],
          manifest: { key: release.manifest.key },
          rules: release.rules,
        };
      }
      const release = releases.get(plan.id)!;
      return {
        id: plan.id,
        status: 'published',
        version: release.version,
        previousVersion,
        changes: countChanges(plan.changes),
        full: release.full,
        deltas: release.deltas,
        manifest: { key: release.manifest.key },
        rules: release.rules,
      };
    });
    const events = packagesOut
      .filter((item) => item.status === 'published')
      .map((item) =>
        releaseEvent('publish', {
          packageId: item.id,
          release: releases.get(item.id)!,
          previousVersion: item.previousVersion,
          channel: request.channel,
          changedKeys,
          store: store.location,
        }),
      );
    return { packages: packagesOut, events, uploaded };
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
}

/**
 * Makes this run the owner of a version before any of its objects is written,
 * so two publishers that picked the same number never overwrite each other's
 * packages. A claim for the same content is ours (a rerun) or identical.
 */
async function claimVersion(store: Store, manifest: Manifest): Promise<void> {
  const key = claimKey(manifest.id, manifest.version);
  const body = serializeDocument({ id: manifest.id, version: manifest.version, contentSha256: manifest.contentSha256 });
  const options = { contentType: 'application/json', cacheControl: IMMUTABLE_CACHE, sha256: sha256Hex(body), ifNoneMatch: true };
  if (await store.writeDocument(key, body, options)) return;
  const existing = await store.readDocument(key);
  if (existing && JSON.parse(existing.body.toString('utf8')).contentSha256 === manifest.contentSha256) return;
  throw new ConflictError(
    `package '${manifest.id}': version ${manifest.version} was just taken by another publisher with other content; run the command again`,
  );
}

/** Writes a manifest once; an identical one already there (a resumed or concurrent run) is kept. */
async function writeManifest(store: Store, manifest: Manifest): Promise<string> {
  const key = manifestKey(manifest.id, manifest.version);
  const body = serializeDocument(manifest);
  const sha256 = sha256Hex(body);
  const written = await store.writeDocument(key, body, {
    contentType: 'application/json',
    cacheControl: IMMUTABLE_CACHE,
    sha256,
    ifNoneMatch: true,
  });
  if (written) return sha256;
  const existing = await store.readDocument(key);
  const existingManifest = existing && (JSON.parse(existing.body.toString('utf8')) as Manifest);
  if (!existing || existingManifest?.contentSha256 !== manifest.contentSha256) {
    throw new ConflictError(
      `package '${manifest.id}': version ${manifest.version} was just published with other content by someone else; run the command again`,
    );
  }
  return sha256Hex(existing.body);
}

export function assertKnownPackages(config: Config, ids: string[]): string[] {
  const known = Object.keys(config.packages);
  for (const id of ids) {
    if (!known.includes(id)) throw new UserError(`unknown package '${id}'; configured packages: ${known.join(', ')}`);
  }
  return ids.length ? ids : known;
}

function describePlans(
  plans: { id: string; changes: FileChanges; previousManifest?: Manifest }[],
  built: Map<string, BuiltPackages>,
): string {
  return plans
    .filter((plan) => built.has(plan.id))
    .map((plan) => {
      const { added, changed, removed } = countChanges(plan.changes);
      const packages = built.get(plan.id)!;
      const bytes = [packages.full, ...packages.deltas].reduce((sum, object) => sum + object.size, 0);
      return `  ${plan.id} ${plan.previousManifest?.version ?? '(new)'} → ${packages.manifest.version}: +${added} ~${changed} -${removed} files, ${formatBytes(bytes)} to upload`;
    })
    .join('\n');
}
