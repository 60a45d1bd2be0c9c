import { rm, stat, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, sep } from 'node:path';
import { readStoredVersions } from '../channel/catalog.js';
import { UserError } from '../errors.js';
import { formatBytes, formatProgress } from '../format.js';
import { runStep } from '../output.js';
import { buildPackages } from '../pack/build-packages.js';
import { allHashed, toManifestFiles } from '../pack/hash-files.js';
import { listFilesToPack, readPackageFiles } from '../pack/package-files.js';
import { manifestKey } from '../protocol/layout.js';
import { contentSha256, serializeDocument } from '../protocol/manifest.js';
import { hashesDecide, versionForContent } from '../release/decide.js';
import type { WorkflowContext } from './context.js';

export interface PackedPackage {
  id: string;
  version: string;
  files: number;
  full: { path: string; size: number; sha256: string };
  manifest: { path: string };
}

/**
 * Full packages and manifests in a local folder laid out like the store;
 * nothing is uploaded. Each version is the one publish would choose, unless
 * one is requested.
 */
export async function packToFolder(
  context: WorkflowContext,
  request: {
    packageIds: string[];
    outDir: string;
    outFlag: string;
    version?: string;
    useCache?: boolean;
    /** Told after each package is complete in outDir. */
    onPacked?: (id: string, version: string) => void;
  },
): Promise<{ out: string; packages: PackedPackage[] }> {
  const { config, store } = context;
  const { outDir } = request;
  // Packed versions are not releases: inside the folder store, publish would take them for an unfinished run's.
  const storeFolder = store.location; // a folder store's absolute path, else s3://…
  if (isAbsolute(storeFolder) && (outDir === storeFolder || outDir.startsWith(storeFolder + sep))) {
    throw new UserError(`--out ${request.outFlag} is inside the store ${store.location}; pack into another folder, or run 'update-publish publish'`);
  }
  const packages: PackedPackage[] = [];
  for (const id of request.packageIds) {
    const stored = await readStoredVersions(store, id);
    const { manifests: storedManifests, unfinished } = stored;
    // Nothing stored to compare with: packing hashes each file in the read that packs it (issue 27).
    const listed = hashesDecide(stored) ? undefined : await listFilesToPack(id, config.packages[id], context, { useCache: request.useCache });
    const files = listed?.files ?? (await readPackageFiles(id, config.packages[id], context, { useCache: request.useCache }));
    const content = allHashed(files) ? contentSha256(toManifestFiles(files)) : undefined;
    const version = request.version ?? versionForContent({ id, contentSha256: content, storedManifests, unfinished, request: {} });
    const started = Date.now();
    const manifestPath = join(outDir, manifestKey(id, version));
    // A package stopped mid-way (Ctrl-C, a full disk) leaves none of the folders it made.
    const created = await firstMissingFolder(outDir, dirname(manifestPath));
    let built;
    try {
      built = await runStep(
        context.output,
        `${id}: packing ${version}`,
        (step) =>
          buildPackages(id, version, files, [], outDir, {
            signal: context.signal,
            onProgress: (done, total) => step.update(`${id}: packing ${version} ${formatProgress(done, total, started)}`),
          }),
        (packed) => `${id}: packed ${version} (${formatBytes(packed.full.size)})`,
      );
      await writeFile(manifestPath, serializeDocument(built.manifest));
      await listed?.rememberHashes(built.files);
    } catch (error) {
      // The cleanup never hides why packing stopped.
      if (created) await rm(created, { recursive: true, force: true }).catch(() => {});
      throw error;
    }
    request.onPacked?.(id, version);
    packages.push({
      id,
      version,
      files: files.length,
      full: { path: built.full.localPath, size: built.full.size, sha256: built.full.sha256 },
      manifest: { path: manifestPath },
    });
  }
  return { out: outDir, packages };
}

/** The outermost folder from `root` down to `dir` that does not exist yet (what packing there will create), or undefined. */
async function firstMissingFolder(root: string, dir: string): Promise<string | undefined> {
  const chain = [dir];
  for (let at = dir; at !== root && dirname(at) !== at; at = dirname(at)) chain.unshift(dirname(at));
  for (const folder of chain) {
    const missing = await stat(folder).then(
      () => false,
      (error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? true : undefined),
    );
    // Anything but "not there" (a file in the way, no permission): leave it all to the error that follows.
    if (missing === undefined) return undefined;
    if (missing) return folder;
  }
  return undefined;
}
