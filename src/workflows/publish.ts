import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageReleases } from '../channel/archive.js';
import { channelsReleasing, claimVersion, readStoredVersions, VersionTakenError, writeManifest } from '../channel/catalog.js';
import { packageHistory, publishRecord } from '../channel/history.js';
import { withReceiptsSettings } from '../channel/receipts-settings.js';
import { assertIndexNotReplayed, INDEX, readIndex } from '../channel/index-store.js';
import type { Config } from '../config/schema.js';
import { ConflictError } from '../errors.js';
import { formatBytes, formatProgress, plural } from '../format.js';
import { makeTempFolder, removeStaleTempFolders, tempRootOf } from '../temp-folders.js';
import { runStep } from '../output.js';
import type { HookResult } from '../hooks/run-hooks.js';
import { encryptionKeyFor } from '../keys/publisher-keys.js';
import { buildPackages, type BuiltPackages, type SkippedDelta } from '../pack/build-packages.js';
import { allHashed, toManifestFiles, type FileToPack } from '../pack/hash-files.js';
import { BaseContent } from '../pack/base-content.js';
import { keepForNextPublish } from '../pack/content-cache.js';
import { contentCacheFor, listFilesToPack, readPackageFiles, type FilesToPack } from '../pack/package-files.js';
import { adoptStoredManifest } from '../pack/stored-version.js';
import { findRelease, upsertRelease } from '../protocol/channel-index.js';
import { channelIndexKey, contentTypeOf, IMMUTABLE_CACHE, manifestKey } from '../protocol/layout.js';
import { contentSha256 } from '../protocol/manifest.js';
import type { ReleaseEvent } from '../protocol/release-event.js';
import type { ChannelIndex, DeltaObject, Release, ReleaseDelta, ReleaseRules } from '../protocol/types.js';
import { hashesDecide } from '../release/decide.js';
import { planPackage, type PackagePlan } from '../release/publish-plan.js';
import { assertStillServable, describeRulesWithRollout } from '../release/rules.js';
import { assertWhitelistsExist } from '../channel/whitelists.js';
import type { Bump } from '../release/version.js';
import { uploadObjects } from '../store/upload.js';
import type { WorkflowContext } from './context.js';
import { releaseProvenance, type Provenance } from './provenance.js';
import { releaseEvent } from './release-event.js';
import { finishInterruptedWork, runChange } from './change-pipeline.js';

export interface PublishRequest {
  packageIds: string[];
  channel: string;
  rules: ReleaseRules;
  version?: string;
  bump?: Bump;
  /** Run the configured hooks after the index write. */
  hooks: boolean;
  /** Release notes and the git commit, recorded on each new release and its history entry. */
  provenance?: Provenance;
  /** false (--no-cache): hash every file again instead of trusting the hash cache. */
  useCache?: boolean;
  /** The rule preset (--rules) the rules came from: recorded, so rollout tick finds its rolloutPolicy. */
  rulesPreset?: string;
}

export interface PublishedPackage {
  id: string;
  status: 'published' | 'unchanged';
  version: string;
  previousVersion: string | null;
  changes: { added: number; changed: number; removed: number };
  full: { key: string; size: number; sha256: string };
  deltas: ReleaseDelta[];
  manifest: { key: string };
  rules: ReleaseRules;
  /** Release notes (`--message`), null without. */
  message: string | null;
  /** The git commit it was published from, null when not known. */
  commit: string | null;
  /** The package's files or the config differed from `commit` (uncommitted changes) when it was published. */
  dirty: boolean;
}

export interface PublishOutcome {
  packages: PublishedPackage[];
  /** One per package whose release was written: what hooks are told. */
  events: ReleaseEvent[];
  uploaded: { objects: number; bytes: number; skipped: number };
  hooks: HookResult[];
}

/**
 * A package's plan with the files it was made from (packing reads them).
 * Files without a SHA-256 are hashed by packing (the store held no version
 * of the package to compare with), which then hands the hashes to
 * `rememberHashes` for the hash cache.
 */
export type PlannedPackage = PackagePlan & { files: FileToPack[]; rememberHashes?: FilesToPack['rememberHashes'] };

export interface PublishPlan {
  channel: string;
  packages: PlannedPackage[];
}

/**
 * Step 1, nothing written: scan and hash every package, read what the store
 * and the channel hold, and decide each package's version and deltas. Every
 * problem is found here, before any work that writes.
 */
export async function planPublish(context: WorkflowContext, request: PublishRequest): Promise<PublishPlan> {
  const { config, store } = context;
  const { index } = await readIndex(store, request.channel);
  const packages: PlannedPackage[] = [];
  for (const id of request.packageIds) {
    // Ctrl-C is honoured between steps too, not only at the first write (see interruptible-store).
    context.signal.throwIfAborted();
    const stored = await readStoredVersions(store, id);
    const cacheOptions = { saveCache: !context.dryRun, useCache: request.useCache };
    if (hashesDecide(stored)) {
      const files = await readPackageFiles(id, config.packages[id], context, cacheOptions);
      packages.push(await planFiles(context, request, index, id, files, stored));
    } else {
      // Nothing stored to compare with: packing hashes each file in the read that packs it (issue 27).
      const { files, rememberHashes } = await listFilesToPack(id, config.packages[id], context, cacheOptions);
      packages.push({ ...(await planFiles(context, request, index, id, files, stored)), rememberHashes });
    }
  }
  return { channel: request.channel, packages };
}

/** One package's plan from its files and what the store (read now unless given) and the channel's index hold. */
async function planFiles(
  context: WorkflowContext,
  request: PublishRequest,
  index: ChannelIndex,
  id: string,
  files: FileToPack[],
  stored?: Awaited<ReturnType<typeof readStoredVersions>>,
): Promise<PlannedPackage> {
  const { config, store } = context;
  const { manifests: storedManifests, unfinished } = stored ?? (await readStoredVersions(store, id));
  const content = allHashed(files) ? contentSha256(toManifestFiles(files)) : undefined;
  // Only content already stored under a version raises "which channels release it?": ask the store then.
  const sameContent = storedManifests.find((manifest) => manifest.contentSha256 === content);
  const sameContentChannels = sameContent ? await channelsReleasing(store, id, sameContent.version) : [];
  const plan = planPackage({
    id,
    channel: request.channel,
    files: files.map(({ path, size, sha256 }) => ({ path, size, sha256 })),
    contentSha256: content,
    // Archived releases are still this channel's history: delta bases and "already released" checks see them.
    channelReleases: await packageReleases(store, index, id),
    channelBases: index.packages[id]?.bases?.map((base) => base.version),
    storedManifests,
    unfinished,
    channelsOf: (version) => (version === sameContent?.version ? sameContentChannels : []),
    deltaCount: config.deltas,
    request: { version: request.version, bump: request.bump },
    rules: request.rules,
  });
  return { ...plan, files };
}

/** Step 2: the full package and the planned deltas of every package to publish, in a staging folder. */
async function packPlan(context: WorkflowContext, plan: PublishPlan, stagingDir: string, encryptionKey: Buffer | undefined) {
  const built = new Map<string, BuiltPackages>();
  for (const [position, item] of plan.packages.entries()) {
    if (item.status !== 'publish') continue;
    context.signal.throwIfAborted();
    const packed = await packItem(context, item, stagingDir, encryptionKey);
    built.set(item.id, packed);
    // From here on the plan holds every hash (a replan after a lost version claim compares them).
    plan.packages[position] = { ...item, files: packed.files };
    await item.rememberHashes?.(packed.files);
  }
  return built;
}

const describeSkippedDelta = (skipped: SkippedDelta) =>
  `, no delta from ${skipped.from}: ${formatBytes(skipped.size)} is ${Math.round(skipped.share * 100)}% of the full package (deltaMaxRatio)`;

const describeDelta = (delta: BuiltPackages['deltas'][number]) =>
  `, delta from ${delta.from} ${formatBytes(delta.size)}${delta.patched ? ` (${formatBytes(delta.patched.size)} with ${plural(delta.patched.patches.length, 'patch', 'patches')})` : ''}`;

/**
 * After a publish, the local content cache keeps the new version's patchable
 * files and the base files it was patched against: the next publish patches
 * against them without reading the store.
 */
async function refreshContentCache(context: WorkflowContext, item: PlannedPackage, packages: BuiltPackages): Promise<void> {
  const patchedBases = new Set(packages.deltas.flatMap((delta) => delta.patched?.patches.map((patch) => patch.baseSha256) ?? []));
  const baseFiles = item.deltas.flatMap((plan) => plan.base.files);
  await keepForNextPublish(contentCacheFor(context.configDir, item.id), context.config.deltaPatches, packages.files, baseFiles, patchedBases).catch(
    (error: Error) => context.output.warn(`content cache not updated: ${error.message}`),
  );
}

async function packItem(context: WorkflowContext, item: PlannedPackage, stagingDir: string, encryptionKey: Buffer | undefined): Promise<BuiltPackages> {
  const started = Date.now();
  return runStep(
    context.output,
    `${item.id}: packing ${item.version}`,
    async (step) => {
      const patches = {
        settings: context.config.deltaPatches,
        baseContent: new BaseContent(context.store, contentCacheFor(context.configDir, item.id), join(stagingDir, 'base', item.id), encryptionKey),
      };
      const rebuilt = await buildPackages(item.id, item.version, item.files, item.deltas, stagingDir, {
        encryptionKey,
        patches,
        signal: context.signal,
        onProgress: (done, total) => step.update(`${item.id}: packing ${item.version} ${formatProgress(done, total, started)}`),
        deltaMaxRatio: context.config.deltaMaxRatio,
      });
      return item.storedManifest ? await adoptStoredManifest(context.store, rebuilt, item.storedManifest) : rebuilt;
    },
    (packed) => `${item.id}: packed ${item.version} (full ${formatBytes(packed.full.size)}${packed.deltas.map(describeDelta).join('')}${(packed.skippedDeltas ?? []).map(describeSkippedDelta).join('')})`,
  );
}

/** Publishers of one package at once each get a version, within this many tries. */
const MAX_CLAIM_ATTEMPTS = 10;
/** Spread out the retries of publishers that lost the same claim, so they do not race again in step. */
const CLAIM_RETRY_JITTER_MS = 100;

/**
 * Step 3: claims each package's version. A version another publisher claimed
 * first for other content is not ours: unless the version was asked for
 * (--version), the package is planned again on what the store holds now
 * (the next version, deltas from what the channel now serves) and packed
 * again, as index conflicts are retried.
 */
async function claimVersions(
  context: WorkflowContext,
  request: PublishRequest,
  plan: PublishPlan,
  built: Map<string, BuiltPackages>,
  packAgain: (item: PlannedPackage) => Promise<BuiltPackages>,
): Promise<void> {
  for (let position = 0; position < plan.packages.length; position++) {
    for (let attempt = 1; built.has(plan.packages[position].id); attempt++) {
      const item = plan.packages[position];
      const { manifest } = built.get(item.id)!;
      try {
        await claimVersion(context.store, manifest);
        break;
      } catch (error) {
        if (!(error instanceof VersionTakenError) || request.version !== undefined || attempt === MAX_CLAIM_ATTEMPTS) throw error;
      }
      await sleep(Math.random() * CLAIM_RETRY_JITTER_MS);
      const { index } = await readIndex(context.store, request.channel);
      const replanned = await planFiles(context, request, index, item.id, item.files);
      plan.packages[position] = replanned;
      if (replanned.status !== 'publish') {
        built.delete(item.id);
        continue;
      }
      context.output.warn(`${item.id}: version ${manifest.version} was just taken by another publisher with other content; publishing as ${replanned.version}`);
      built.set(item.id, await packAgain(replanned));
    }
  }
}

/**
 * pack → diff → write packages and manifests → write the channel index last,
 * so a crash never exposes a release whose objects are missing. Every package
 * is planned (and every problem found) before anything is written.
 */
export async function publish(context: WorkflowContext, request: PublishRequest): Promise<PublishOutcome> {
  const { config, store, output } = context;
  assertStillServable(request.rules);
  await assertWhitelistsExist(store, request.rules.whitelist);
  // Keys are read before any work, so a missing one fails the run at once.
  const encryptionKey = encryptionKeyFor(config, context.env);
  await context.signer?.();
  await context.assertSigningMatchesStore?.();
  await assertIndexNotReplayed(store, request.channel);
  const plan = await planPublish(context, request);
  // A run killed after its index write left history and hooks undone: finished even when nothing is new to publish.
  await finishInterruptedWork(context, request.channel);

  // Killed runs leave their staging folders (up to a package's size each): theirs go first.
  for (const stale of await removeStaleTempFolders(tempRootOf(context.env))) output.debug(`removed ${stale}, left by a run that was killed`);
  const stagingDir = await makeTempFolder('staging', tempRootOf(context.env));
  try {
    const built = await packPlan(context, plan, stagingDir, encryptionKey);
    const written = built.size > 0 ? await writeReleases(context, request, plan, built, (item) => packItem(context, item, stagingDir, encryptionKey)) : undefined;
    const releases = written?.releases ?? new Map<string, Release>();
    const packages = plan.packages.map((item): PublishedPackage => {
      const release = item.status === 'unchanged' ? item.release! : releases.get(item.id)!;
      return {
        id: item.id,
        status: item.status === 'unchanged' ? 'unchanged' : 'published',
        version: release.version,
        previousVersion: item.previousVersion,
        changes: item.changes,
        full: release.full,
        deltas: item.status === 'unchanged' ? [] : release.deltas,
        manifest: { key: release.manifest.key },
        rules: release.rules,
        message: release.message ?? null,
        commit: release.commit ?? null,
        dirty: item.status === 'unchanged' ? false : Boolean(request.provenance?.dirty),
      };
    });
    if (!context.dryRun) for (const item of plan.packages) if (built.has(item.id)) await refreshContentCache(context, item, built.get(item.id)!);
    return { packages, events: written?.events ?? [], uploaded: written?.uploaded ?? { objects: 0, bytes: 0, skipped: 0 }, hooks: written?.hooks ?? [] };
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
}

/**
 * Steps 3–5 on the change pipeline: once confirmed, claim each version,
 * upload the objects the store lacks, write the manifests (create-only), then
 * the channel index with the new releases, their history entries and hooks
 * (finished by the next run if this one is killed).
 */
async function writeReleases(
  context: WorkflowContext,
  request: PublishRequest,
  plan: PublishPlan,
  built: Map<string, BuiltPackages>,
  packAgain: (item: PlannedPackage) => Promise<BuiltPackages>,
) {
  const { config, store } = context;
  const { channel } = request;
  const { change, hooks } = await runChange(context, {
    kind: INDEX,
    channel,
    apply: (index, prepared: { releases: Map<string, Release>; uploaded: PublishOutcome['uploaded'] } | undefined) => ({
      document: withReceiptsSettings(prepared ? withNewReleases(index, channel, prepared.releases) : index, config),
      releases: prepared?.releases ?? new Map<string, Release>(),
      uploaded: prepared?.uploaded,
    }),
    question: () => `${describePlan(plan, built)}\n  rules: ${describeRulesWithRollout(request.rules)}\nPublish to '${channel}' on ${store.location}?`,
    declined: 'publish cancelled; nothing was written',
    prepare: async () => {
      await claimVersions(context, request, plan, built, packAgain);
      const uploaded = await uploadPackages(context, config, [...built.values()]);
      const releases = new Map<string, Release>();
      for (const [id, packages] of built) {
        const stored = await writeManifest(store, packages.manifest);
        releases.set(id, {
          version: packages.manifest.version,
          releasedAt: new Date().toISOString(),
          manifest: { key: manifestKey(id, packages.manifest.version), ...stored },
          full: packages.manifest.full,
          deltas: packages.manifest.deltas.map(releaseDelta),
          rules: request.rules,
          state: 'active',
          ...releaseProvenance(request.provenance ?? {}),
        });
      }
      return { releases, uploaded };
    },
    // Built from the index as written: hooks tell each package's releases there and the index version.
    after: ({ releases }, written) => ({
      summary: `publish of ${[...releases].map(([id, release]) => `${id}@${release.version}`).join(', ')}`,
      releases: [...releases].map(([id, release]) => ({ package: id, release })),
      history: [...releases].map(([id, release]) => packageHistory(channel, id, [publishRecord(release, { dirty: request.provenance?.dirty }, request.rulesPreset)], context.actor)),
      events: publishEvents(context, plan, releases, written),
    }),
    hooks: request.hooks,
  });
  const events = publishEvents(context, plan, change.releases, { document: change.document, key: channelIndexKey(channel) });
  return { releases: change.releases, uploaded: change.uploaded!, events, hooks };
}

function publishEvents(context: WorkflowContext, plan: PublishPlan, releases: Map<string, Release>, written: { document: ChannelIndex; key: string }): ReleaseEvent[] {
  return plan.packages
    .filter((item) => releases.has(item.id))
    .map((item) =>
      releaseEvent('publish', {
        packageId: item.id,
        release: releases.get(item.id)!,
        previousVersion: item.previousVersion,
        channel: plan.channel,
        changedKeys: [written.key],
        store: context.store.location,
        index: written.document,
        actor: context.actor,
      }),
    );
}

/**
 * The index with the new releases. Planning saw no such release here: our
 * own write retried after a lost reply finds itself (its release time is this
 * run's); anything else is a concurrent publisher of the same content, whose
 * rules must not be dropped (exit 3).
 */
function withNewReleases(index: ChannelIndex, channel: string, releases: Map<string, Release>): ChannelIndex {
  return [...releases].reduce((next, [id, release]) => {
    const present = findRelease(next, id, release.version);
    if (present?.releasedAt === release.releasedAt) return next;
    if (present) {
      throw new ConflictError(
        `package '${id}': ${release.version} was just released on '${channel}' by another publisher with the same content; run 'update-publish status' to see its rules`,
      );
    }
    return upsertRelease(next, id, release);
  }, index);
}

/** A delta as the index lists it: the patched one by its object alone (the patch listing is in the manifest). */
export const releaseDelta = ({ from, key, size, sha256, patched }: DeltaObject): ReleaseDelta => ({
  from,
  key,
  size,
  sha256,
  ...(patched && { patched: { key: patched.key, size: patched.size, sha256: patched.sha256 } }),
});

/** Uploads every package object the store lacks, with progress; what the store already has is skipped. */
export async function uploadPackages(context: WorkflowContext, config: Config, built: BuiltPackages[]): Promise<PublishOutcome['uploaded']> {
  const items = built.flatMap((packages) =>
    [packages.full, ...packages.deltas.flatMap((delta) => (delta.patched ? [delta, delta.patched] : [delta]))].map((object) => ({
      key: object.key,
      localPath: object.localPath,
      size: object.size,
      sha256: object.sha256,
      contentType: contentTypeOf(object.key),
      cacheControl: IMMUTABLE_CACHE,
    })),
  );
  if (items.length === 0) return { objects: 0, bytes: 0, skipped: 0 };
  const started = Date.now();
  const result = await runStep(
    context.output,
    `uploading ${plural(items.length, 'object')} to ${context.store.location}`,
    (step) =>
      uploadObjects(context.store, items, {
        concurrency: config.s3?.concurrency,
        signal: context.signal,
        onProgress: (done, total) => step.update(`uploading ${formatProgress(done, total, started)}`),
      }),
    // A dry run sends nothing: it says what it would send.
    (uploaded) =>
      `${context.dryRun ? 'would upload' : 'uploaded'} ${plural(uploaded.uploaded.length, 'object')} (${formatBytes(uploaded.bytesUploaded)}), ${uploaded.skipped.length} already in the store`,
  );
  return { objects: result.uploaded.length, bytes: result.bytesUploaded, skipped: result.skipped.length };
}

/** One line per package to publish, as the confirmation shows it. */
export function describePlan(plan: PublishPlan, built: Map<string, BuiltPackages>): string {
  return plan.packages
    .filter((item) => built.has(item.id))
    .map((item) => {
      const { added, changed, removed } = item.changes;
      const packages = built.get(item.id)!;
      const bytes = [packages.full, ...packages.deltas, ...packages.deltas.flatMap((delta) => delta.patched ?? [])].reduce((sum, object) => sum + object.size, 0);
      return `  ${item.id} ${item.previousVersion ?? '(new)'} → ${packages.manifest.version}: +${added} ~${changed} -${removed} ${added + changed + removed === 1 ? 'file' : 'files'}, ${formatBytes(bytes)} to upload`;
    })
    .join('\n');
}
