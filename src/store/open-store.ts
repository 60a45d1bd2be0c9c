import { resolve } from 'node:path';
import type { S3Config } from '../config/schema.js';
import type { Environment } from '../environment.js';
import { UserError } from '../errors.js';
import { createFolderStore } from './folder-store.js';
import type { Store } from './store.js';
import { storeUrlProblem } from '../config/store-url.js';

/** A store URL from the config: a folder path (relative to baseDir) or file://, or s3://bucket/prefix (AWS settings from the config, else from env). */
export async function openStore(storeUrl: string, s3Config: S3Config | undefined, baseDir: string, env: Environment): Promise<Store> {
  if (storeUrl.startsWith('s3://')) {
    const [{ createS3Store }, { parseS3Url }] = await Promise.all([import('./s3-store.js'), import('../config/s3-url.js')]);
    return createS3Store(parseS3Url(storeUrl), s3Config ?? {}, env);
  }
  if (storeUrl.startsWith('file://')) return createFolderStore(new URL(storeUrl).pathname);
  const problem = storeUrlProblem(storeUrl);
  if (problem) throw new UserError(problem);
  return createFolderStore(resolve(baseDir, storeUrl));
}
