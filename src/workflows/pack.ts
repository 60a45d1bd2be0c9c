import { writeFile } from 'node:fs/promises';
import { isAbsolute, join, sep } from 'node:path';
import { readStoredVersions } from '../channel/catalog.js';
import { UserError } from '../errors.js';
import { formatBytes, formatProgress } from '../format.js';
import { runStep } from '../output.js';
import { buildPackages } from '../pack/build-packages.js';
import { toManifestFiles } from '../pack/hash-files.js';
import { readPackageFiles } from '../pack/package-files.js';
import { manifestKey } from '../protocol/layout.js';
import { contentSha256, serializeDocument } from '../protocol/manifest.js';
import { versionForContent } from '../release/decide.js';
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
  request: { packageIds: string[]; outDir: string; outFlag: string; version?: string; useCache?: boolean },
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
    const files = await readPackageFiles(id, config.packages[id], context, { useCache: request.useCache });
    const { manifests: storedManifests, unfinished } = await readStoredVersions(store, id);
    const content = contentSha256(toManifestFiles(files));
    const version = request.version ?? versionForContent({ id, contentSha256: content, storedManifests, unfinished, request: {} });
    const started = Date.now();
    const built = await runStep(
      context.output,
      `${id}: packing ${version}`,
      (step) =>
        buildPackages(id, version, files, [], outDir, {
          signal: context.signal,
          onProgress: (done, total) => step.update(`${id}: packing ${version} ${formatProgress(done, total, started)}`),
        }),
      (packed) => `${id}: packed ${version} (${formatBytes(packed.full.size)})`,
    );
    const manifestPath = join(outDir, manifestKey(id, version));
    await writeFile(manifestPath, serializeDocument(built.manifest));
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
