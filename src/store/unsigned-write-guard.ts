import { UserError } from '../errors.js';
import { isSigned } from '../protocol/document-signature.js';
import { channelsPrefix, isDeviceDocument } from '../protocol/layout.js';
import { whitelistsPrefix } from '../protocol/whitelist.js';
import type { Store } from './store.js';

/** The documents whose signatures say a store is signed: what devices read first. */
const isTrustAnchor = (key: string) => isDeviceDocument(key) || (key.startsWith(whitelistsPrefix) && key.endsWith('/meta.json'));

/** The first device document of the store that carries signatures; undefined in an unsigned store. */
export async function findSignedDocument(store: Store): Promise<string | undefined> {
  const keys = [...(await store.list(channelsPrefix)), ...(await store.list(whitelistsPrefix))].map((object) => object.key).filter(isTrustAnchor);
  for (const key of keys) {
    const stored = await store.readDocument(key);
    if (!stored) continue;
    try {
      if (isSigned(JSON.parse(stored.body.toString('utf8')))) return key;
    } catch {
      // A damaged document says nothing about signing; the command's own reader names it.
    }
  }
  return undefined;
}

/**
 * A publisher without `signing` writing into a signed store would write
 * unsigned documents that every device trusting the store's key refuses:
 * before its first write it looks whether the store is signed, and refuses
 * (exit 2) unless told --allow-unsigned. Nothing has been written then.
 */
export function unsignedWriteGuard(store: Store): { store: Store; check: () => Promise<void> } {
  let checked: Promise<void> | undefined;
  const check = () =>
    (checked ??= findSignedDocument(store).then((signed) => {
      if (signed === undefined) return;
      throw new UserError(
        `${store.location} is a signed store (${signed} carries signatures) but the config has no "signing": devices that trust its key would refuse what this command writes; set "signing": { "privateKey": … } in the config, or pass --allow-unsigned to write unsigned documents anyway`,
      );
    }));
  return {
    check,
    store: {
      ...store,
      async putFile(key, localPath, options, onProgress, signal) {
        await check();
        return store.putFile(key, localPath, options, onProgress, signal);
      },
      async writeDocument(key, body, options) {
        await check();
        return store.writeDocument(key, body, options);
      },
    },
  };
}
