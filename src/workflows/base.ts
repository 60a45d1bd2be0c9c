import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tempRootOf } from '../temp-folders.js';
import { join, resolve } from 'node:path';
import { readStoredVersions } from '../channel/catalog.js';
import { packageHistory } from '../channel/history.js';
import { INDEX } from '../channel/index-store.js';
import { UserError } from '../errors.js';
import { encryptionKeyFor } from '../keys/publisher-keys.js';
import { buildPackages } from '../pack/build-packages.js';
import { toManifestFiles } from '../pack/hash-files.js';
import { readPackageFiles } from '../pack/package-files.js';
import { upsertBase } from '../protocol/channel-index.js';
import { manifestKey } from '../protocol/layout.js';
import { contentSha256 } from '../protocol/manifest.js';
import type { Base, Manifest } from '../protocol/types.js';
import { runChange } from './change-pipeline.js';
import type { WorkflowContext } from './context.js';
import { claimVersion, writeManifest } from '../channel/catalog.js';
import { uploadPackages } from './publish.js';

export interface BaseRequest {
  packageId: string;
  /** The folder holding the content the app ships in its binary. */
  dir: string;
  version: string;
  channel: string;
}

export interface AddedBase {
  channel: string;
  package: string;
  version: string;
  files: number;
  /** False when the store already held this version with this content (only the channel entry was written). */
  packed: boolean;
  full: { key: string; size: number; sha256: string };
  manifest: { key: string };
  dryRun: boolean;
}

/**
 * `base add`: records content an app ships inside its binary as a version
 * devices may hold. Its full package and manifest are stored like any
 * version's (later publishes build deltas and patches from it), and the
 * channel index lists it under the package's `bases`, which resolve never
 * serves: devices only ever report it as installed.
 */
export async function addBase(context: WorkflowContext, request: BaseRequest): Promise<AddedBase> {
  const { config, store } = context;
  const { packageId: id, version, channel } = request;
  const dir = resolve(context.cwd, request.dir);
  if (!(await stat(dir).catch(() => null))?.isDirectory()) throw new UserError(`--dir ${request.dir} is not a folder; give the folder holding the content the app ships`);
  const encryptionKey = encryptionKeyFor(config, context.env);
  await context.signer?.();
  const files = await readPackageFiles(id, { ...config.packages[id], dir }, context, { saveCache: false });
  if (files.length === 0) throw new UserError(`--dir ${request.dir} holds no files of package '${id}' (its include/exclude apply); give the folder the app ships`);
  const { manifests } = await readStoredVersions(store, id);
  const content = contentSha256(toManifestFiles(files));
  const sameVersion = manifests.find((manifest) => manifest.version === version);
  if (sameVersion && sameVersion.contentSha256 !== content) {
    throw new UserError(`package '${id}': version ${version} is already stored with other content; a version names one content, so give the version the app reports for this content`);
  }
  const sameContent = manifests.find((manifest) => manifest.contentSha256 === content && manifest.version !== version);
  if (sameContent) {
    throw new UserError(`package '${id}': this content is already version ${sameContent.version}; record it as that version (--version ${sameContent.version})`);
  }

  let manifest: Manifest;
  const stagingDir = await mkdtemp(join(tempRootOf(context.env), 'update-publish-base-'));
  try {
    const built = sameVersion ? undefined : await buildPackages(id, version, files, [], stagingDir, { encryptionKey });
    await runChange(context, {
      kind: INDEX,
      channel,
      apply: (index, base: Base | undefined) => ({ document: base ? upsertBase(index, id, base) : index, base }),
      question: () => `Record ${id} ${version} (${files.length} files) as a base devices may hold on '${channel}'?`,
      declined: 'base add cancelled; nothing was written',
      // The version's objects and manifest first: the index entry names them.
      prepare: async (): Promise<Base> => {
        if (built) {
          await claimVersion(store, built.manifest);
          await uploadPackages(context, config, [built]);
        }
        const stored = await writeManifest(store, built?.manifest ?? sameVersion!);
        return { version, addedAt: new Date().toISOString(), manifest: { key: manifestKey(id, version), ...stored } };
      },
      after: () => ({
        summary: `base add ${id}@${version}`,
        history: [packageHistory(channel, id, [{ action: 'base-add', version, details: { files: files.length } }], context.actor)],
        events: [],
      }),
      hooks: false,
    });
    manifest = built?.manifest ?? sameVersion!;
  } finally {
    await rm(stagingDir, { recursive: true, force: true });
  }
  return {
    channel,
    package: id,
    version,
    files: files.length,
    packed: !sameVersion,
    full: { key: manifest.full.key, size: manifest.full.size, sha256: manifest.full.sha256 },
    manifest: { key: manifestKey(id, version) },
    dryRun: context.dryRun,
  };
}
