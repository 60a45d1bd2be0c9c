import { resolve } from 'node:path';
import type { S3Config } from '../config/schema.js';
import { UserError } from '../errors.js';
import { createFolderStore } from './folder-store.js';
import type { Store } from './store.js';

/** A store URL from the config: a folder path (or file://), or s3://bucket/prefix. */
export async function openStore(storeUrl: string, s3Config: S3Config | undefined, baseDir: string): Promise<Store> {
  if (storeUrl.startsWith('s3://')) {
    const [{ createS3Store }, { parseS3Url }] = await Promise.all([import('./s3-store.js'), import('./s3-url.js')]);
    return createS3Store(parseS3Url(storeUrl), s3Config ?? {});
  }
  if (storeUrl.startsWith('file://')) return createFolderStore(new URL(storeUrl).pathname);
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(storeUrl);
  if (scheme) {
    throw new UserError(`store '${storeUrl}' has unknown scheme '${scheme[1]}:'; use a folder path or s3://bucket/prefix`);
  }
  return createFolderStore(resolve(baseDir, storeUrl));
}
