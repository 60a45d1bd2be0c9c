import type { Manifest, StoredObject } from '../protocol/types.js';
import { UserError } from '../errors.js';
import type { BuiltPackages, StagedObject } from './build-packages.js';
import type { Store } from '../store/store.js';

/**
 * Finishing a publish whose manifest an earlier run already stored (it
 * stopped before the index). Manifests are create-only, so the release must
 * point at exactly the objects the stored manifest lists. A rebuilt object
 * with the same bytes is uploaded as usual (plain zips are deterministic); an
 * encrypted rebuild differs (fresh nonce), so the stored object must already
 * be there, as the earlier run uploaded every object before the manifest.
 */
export async function adoptStoredManifest(store: Store, rebuilt: BuiltPackages, stored: Manifest): Promise<BuiltPackages> {
  const patched = rebuilt.deltas.flatMap((delta) => delta.patched ?? []);
  const local = new Map<string, StagedObject>([rebuilt.full, ...rebuilt.deltas, ...patched].map((object) => [object.key, object]));
  const patchesOf = new Map(patched.map((object) => [object.key, object.patches]));
  const adopt = async (object: StoredObject): Promise<StagedObject> => {
    const staged = local.get(object.key);
    if (staged?.sha256 === object.sha256) return staged;
    const present = await store.head(object.key);
    if (staged && present?.size === object.size && present.sha256 === object.sha256) {
      // Already stored as listed: the upload step finds it and skips it.
      return { ...staged, size: object.size, sha256: object.sha256 };
    }
    throw new UserError(
      `package '${stored.id}': version ${stored.version} is half-published and its object ${object.key} is missing or altered in the store, and cannot be rebuilt byte for byte; run 'update-publish verify', then publish again with --version set to a new version`,
    );
  };
  return {
    manifest: stored,
    files: rebuilt.files,
    full: await adopt(stored.full),
    deltas: await Promise.all(
      stored.deltas.map(async (delta) => ({
        ...(await adopt(delta)),
        from: delta.from,
        // The patch files themselves are in the patched delta already; only their listing travels on.
        ...(delta.patched && { patched: { ...(await adopt(delta.patched)), patches: patchesOf.get(delta.patched.key) ?? [] } }),
      })),
    ),
  };
}
