import { join } from 'node:path';
import { rm } from 'node:fs/promises';
import { readManifest } from '../channel/catalog.js';
import { buildTree } from '../client/fetch/build-tree.js';
import { readReleaseManifest } from '../client/fetch/documents.js';
import { downloadPackage } from '../client/fetch/download.js';
import { storeSource } from '../client/fetch/source.js';
import { formatBytes, formatProgress, plural } from '../format.js';
import { encryptionKeyFor } from '../keys/publisher-keys.js';
import { runStep } from '../output.js';
import { deltaWorthKeeping, buildDeltaPackages } from '../pack/build-packages.js';
import type { PackageFile } from '../pack/hash-files.js';
import { encryptionKeyId } from '../protocol/encryption.js';
import { contentTypeOf, IMMUTABLE_CACHE } from '../protocol/layout.js';
import { safeJoin } from '../protocol/path-safety.js';
import type { Release } from '../protocol/types.js';
import { deltaBaseVersions } from '../release/decide.js';
import { planDeltas } from '../release/delta-plan.js';
import { makeTempFolder, tempRootOf } from '../temp-folders.js';
import { uploadObjects } from '../store/upload.js';
import type { WorkflowContext } from './context.js';

/**
 * Deltas for a promoted release, from the versions the target channel's
 * devices hold (at most `deltas`, as at publish): the manifest is written
 * once, so these are listed in the target index alone, each with its
 * `removed`. Without them, devices on the target would download the full
 * package for a change a delta of a few KB carries.
 */

/** The target channel's versions the release has no delta from yet. */
export function targetDeltaBases(release: Release, targetReleases: readonly Release[], count: number): string[] {
  const others = targetReleases.filter((candidate) => candidate.version !== release.version);
  return deltaBaseVersions(others, release.version, count).filter((base) => !release.deltas.some((delta) => delta.from === base));
}

/**
 * Builds and uploads the deltas from `bases` to the release: its files come
 * from its full package in the store (checked as a device checks them), the
 * bases' from their manifests. A delta object already stored (an earlier
 * promotion) is kept as it is. Returns the index entries.
 */
export async function buildTargetDeltas(context: WorkflowContext, packageId: string, release: Release, bases: string[]): Promise<Release['deltas']> {
  const { store, output } = context;
  const source = storeSource(store);
  const manifest = await readReleaseManifest(source, packageId, release);
  const encryptionKey = encryptionKeyFor(context.config, context.env);
  if (manifest.encryption && (!encryptionKey || encryptionKeyId(encryptionKey) !== manifest.encryption.keyId)) {
    output.warn(`${packageId} ${release.version} is encrypted with key ${manifest.encryption.keyId}, which this config does not hold: no deltas built for the target channel`);
    return [];
  }
  const baseManifests = await Promise.all(bases.map(async (base) => (await readManifest(store, packageId, base)).manifest));
  const plans = planDeltas(manifest.files, baseManifests);
  if (plans.length === 0) return [];

  const work = await makeTempFolder('staging', tempRootOf(context.env));
  try {
    const decryptionKeys = encryptionKey ? [encryptionKey] : [];
    const full = await downloadPackage(source, manifest, manifest.full, join(work, 'full'), decryptionKeys);
    const tree = join(work, 'tree');
    await buildTree(manifest, { kind: 'full', zipPath: full.zipPath, objectKey: manifest.full.key }, tree);
    const files: PackageFile[] = manifest.files.map((file) => ({ ...file, absolutePath: safeJoin(tree, file.path) }));
    const started = Date.now();
    const staged = await runStep(
      output,
      `${packageId}: packing ${plural(plans.length, 'delta')} for ${release.version}`,
      (step) =>
        buildDeltaPackages(packageId, release.version, files, plans, join(work, 'out'), {
          encryptionKey: manifest.encryption ? encryptionKey : undefined,
          signal: context.signal,
          onProgress: (done, total) => step.update(`${packageId}: packing deltas for ${release.version} ${formatProgress(done, total, started)}`),
        }),
      (built) => `${packageId}: packed ${built.map((delta) => `delta from ${delta.from}`).join(', ')}`,
    );
    // An object a promotion to another channel already stored is another run's bytes (an
    // encrypted rebuild differs): keep it as it is rather than replace what an index lists.
    const entries: Release['deltas'] = [];
    const toUpload = [];
    for (const delta of staged) {
      if (!deltaWorthKeeping(delta.size, manifest.full.size, context.config.deltaMaxRatio)) {
        output.info(`${packageId}: no delta from ${delta.from}: ${formatBytes(delta.size)} is ${Math.round((delta.size / Math.max(1, manifest.full.size)) * 100)}% of the full package (deltaMaxRatio)`);
        continue;
      }
      const present = await store.head(delta.key);
      if (present?.sha256) {
        entries.push({ from: delta.from, key: delta.key, size: present.size, sha256: present.sha256, removed: delta.removed });
        continue;
      }
      entries.push({ from: delta.from, key: delta.key, size: delta.size, sha256: delta.sha256, removed: delta.removed });
      toUpload.push({ key: delta.key, localPath: delta.localPath, size: delta.size, sha256: delta.sha256, contentType: contentTypeOf(delta.key), cacheControl: IMMUTABLE_CACHE });
    }
    if (toUpload.length) await uploadObjects(store, toUpload, { concurrency: context.config.s3?.concurrency, signal: context.signal });
    return entries;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
