import { writeFile } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';
import type { Command } from 'commander';
import { buildPackages } from '../../pack/build-packages.js';
import { contentSha256, serializeDocument } from '../../protocol/manifest.js';
import { toManifestFiles, type PackageFile } from '../../pack/hash-files.js';
import { readStoredVersions } from '../../channel/catalog.js';
import { nextVersion, parseVersionFlag } from '../../release/version.js';
import { assertKnownPackages } from '../../workflows/publish.js';
import { readPackageFiles } from '../../pack/package-files.js';
import { manifestKey } from '../../protocol/layout.js';
import { UserError } from '../../errors.js';
import { withContext, type GlobalOptions } from '../context.js';
import { formatBytes, formatTable } from '../../format.js';

interface PackedPackage {
  id: string;
  version: string;
  files: number;
  full: { path: string; size: number; sha256: string };
  manifest: { path: string };
}

interface PackFlags extends GlobalOptions {
  out: string;
  version?: string;
}

export function registerPack(program: Command): void {
  program
    .command('pack [packages...]')
    .description('build full packages and manifests into a local folder (laid out like the store); uploads nothing')
    .option('--out <dir>', 'output folder', 'update-publish-out')
    .option('--version <semver>', 'version to stamp (default: the version publish would choose)')
    .addHelpText('after', '\nExamples:\n  $ update-publish pack\n  $ update-publish pack maps --out build/packages --version 2.0.0 --json')
    .action(async (ids: string[], _flags, command: Command) => {
      const flags = command.optsWithGlobals<PackFlags>();
      const requestedVersion = flags.version === undefined ? undefined : parseVersionFlag(flags.version);
      await withContext(flags, async ({ config, configDir, store, output }) => {
        const outDir = resolve(flags.out);
        // Packed versions are not releases: inside the folder store, publish would take them for an unfinished run's.
        const storeFolder = store.location; // a folder store's absolute path, else s3://…
        if (isAbsolute(storeFolder) && (outDir === storeFolder || outDir.startsWith(storeFolder + sep))) {
          throw new UserError(`--out ${flags.out} is inside the store ${store.location}; pack into another folder, or run 'update-publish publish'`);
        }
        const packages: PackedPackage[] = [];
        for (const id of assertKnownPackages(config, ids)) {
          const files = await readPackageFiles(id, config.packages[id], { configDir, store, output });
          const { manifests: stored, unfinished } = await readStoredVersions(store, id);
          const content = contentSha256(toManifestFiles(files));
          const version =
            requestedVersion ??
            stored.find((manifest) => manifest.contentSha256 === content)?.version ??
            nextVersion(id, [...stored, ...unfinished].map((taken) => taken.version), {});
          const built = await buildPackagesInto(outDir, id, version, files);
          packages.push({
            id,
            version,
            files: files.length,
            full: { path: built.full.localPath, size: built.full.size, sha256: built.full.sha256 },
            manifest: { path: join(outDir, manifestKey(id, version)) },
          });
        }
        output.result({ out: outDir, packages }, () =>
          formatTable(
            ['package', 'version', 'files', 'size', 'zip'],
            packages.map((item) => [item.id, item.version, String(item.files), formatBytes(item.full.size), item.full.path]),
          ),
        );
      });
    });
}

async function buildPackagesInto(outDir: string, id: string, version: string, files: PackageFile[]) {
  const built = await buildPackages(id, version, files, [], outDir);
  await writeFile(join(outDir, manifestKey(id, version)), serializeDocument(built.manifest));
  return built;
}
