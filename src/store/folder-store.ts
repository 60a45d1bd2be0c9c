import { createReadStream } from 'node:fs';
import { copyFile, readFile, rename, rm, rmdir, stat, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, resolve, sep } from 'node:path';
import fg from 'fast-glob';
import { StoreError } from '../errors.js';
import { describeFullDisk } from '../file-system-errors.js';
import { sha256File, sha256Hex } from '../hash.js';
import type { ConditionalWrite, ObjectInfo, Store } from './store.js';
import { makeDirectory } from '../make-dir.js';

const TEMP_SUFFIX = '.partial';
/** `<key>.<12 hex>.partial`: a temp file beside the object it becomes. */
const TEMP_NAME = /\.[0-9a-f]{12}\.partial$/;
// A writer killed while holding a document's lock (SIGKILL, power loss) leaves
// it behind until it goes stale; the next writer waits longer than that
// (~14 s of retries), so a rerun after a crash gets through instead of failing.
const LOCK_STALE_MS = 10_000;
/** A parent folder removed under a writer by another's delete is made again this many times. */
const FOLDER_REMOVED_RETRIES = 20;
const LOCK_RETRIES = { retries: 60, minTimeout: 20, maxTimeout: 250, randomize: true };

/**
 * The embedded default store: a folder laid out exactly like the bucket.
 * Every write is temp file + rename, so a reader (or a crash) never sees half
 * an object; conditional writes hold a lock around compare-and-rename.
 */
export function createFolderStore(rootDir: string): Store {
  const root = resolve(rootDir);

  const pathOf = (key: string) => {
    const path = resolve(root, key);
    if (!path.startsWith(root + sep)) throw new StoreError(`object key '${key}' leaves the store folder`);
    return path;
  };

  /** Writes beside the target, then renames over it: all or nothing. */
  async function atomicWrite(path: string, write: (tempPath: string) => Promise<void>) {
    await makeDirectory(dirname(path));
    const tempPath = `${path}.${randomBytes(6).toString('hex')}${TEMP_SUFFIX}`;
    try {
      await write(tempPath);
      await rename(tempPath, path);
    } catch (error) {
      await rm(tempPath, { force: true });
      throw error;
    }
  }

  async function readIfExists(path: string): Promise<Buffer | null> {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  /**
   * Takes the document's lock (a folder beside it, which also keeps its
   * parent folder from being removed while held). Between making the parent
   * and taking the lock, a `delete` of the folder's last object may remove the
   * folder (two writers of pending records): made again, up to a few times.
   */
  async function lockDocument(key: string, path: string): Promise<() => Promise<void>> {
    // Loaded by the first write: a run that only reads (an unchanged publish, status) never needs it.
    const { default: lockfile } = await import('proper-lockfile');
    for (let attempt = 1; ; attempt++) {
      try {
        await makeDirectory(dirname(path));
        return await lockfile.lock(path, { realpath: false, stale: LOCK_STALE_MS, retries: LOCK_RETRIES });
      } catch (error) {
        const { code } = error as NodeJS.ErrnoException;
        if (code === 'ENOENT' && attempt < FOLDER_REMOVED_RETRIES) continue;
        if (code !== 'ELOCKED') throw error;
        throw new StoreError(`'${key}' is locked by another writer (${key}.lock): wait for it to finish, then run again`);
      }
    }
  }

  const store: Store = {
    location: root,
    folder: root,

    async readDocument(key) {
      const body = await readIfExists(pathOf(key));
      return body && { body, etag: sha256Hex(body) };
    },

    async head(key) {
      const path = pathOf(key);
      try {
        const stats = await stat(path);
        return { key, size: stats.size, lastModified: stats.mtime, sha256: await sha256File(path) };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
        throw error;
      }
    },

    async putFile(key, localPath, options, onProgress) {
      const copy = () => atomicWrite(pathOf(key), (tempPath) => copyFile(localPath, tempPath));
      await copy().catch((error: NodeJS.ErrnoException) => {
        // A concurrent publisher of this same version and content (see claimVersion) removes
        // the temp files it finds on its keys, taking ours for a killed run's: copy again.
        if (error.code !== 'ENOENT') throw error;
        return copy();
      });
      onProgress?.(options.size);
    },

    async writeDocument(key, body, options: ConditionalWrite) {
      const path = pathOf(key);
      const release = await lockDocument(key, path);
      try {
        const current = await readIfExists(path);
        if (options.ifNoneMatch && current) return null;
        if (options.ifMatch !== undefined && (!current || sha256Hex(current) !== options.ifMatch)) return null;
        await atomicWrite(path, (tempPath) => writeFile(tempPath, body));
        return { etag: sha256Hex(body) };
      } finally {
        await release();
      }
    },

    async openRead(key, range) {
      const path = pathOf(key);
      await stat(path).catch(() => {
        throw new StoreError(`object '${key}' is missing from the store ${root}`);
      });
      return createReadStream(path, range);
    },

    async list(prefix) {
      const entries = await fg(prefix ? `${fg.escapePath(prefix)}**` : '**', {
        cwd: root,
        dot: true,
        onlyFiles: true,
        stats: true,
        ignore: [`**/*${TEMP_SUFFIX}`, '**/*.lock/**'],
      });
      return entries.map(
        (entry): ObjectInfo => ({ key: entry.path, size: entry.stats!.size, lastModified: entry.stats!.mtime }),
      );
    },

    async delete(keys) {
      for (const key of keys) {
        const path = pathOf(key);
        await rm(path, { force: true });
        // A bucket has no folders: one emptied here goes too, so the folder syncs to a bucket as is.
        for (let folder = dirname(path); folder !== root; folder = dirname(folder)) {
          if (!(await rmdir(folder).then(() => true, () => false))) break;
        }
      }
    },

    // A killed writer's temp files are this store's open uploads, listed under the key they were
    // writing (so a rerun of that key aborts them); the temp file's own key is the upload id.
    async listOpenUploads() {
      const entries = await fg(`**/*${TEMP_SUFFIX}`, { cwd: root, dot: true, onlyFiles: true, stats: true });
      return entries.map((entry) => ({ key: entry.path.replace(TEMP_NAME, ''), uploadId: entry.path, initiated: entry.stats!.mtime }));
    },
    async abortUpload(upload) {
      await rm(pathOf(upload.uploadId), { force: true });
    },
    async close() {},
  };
  return withFolderErrors(store);
}

/** What to do about a file-system error that means the store folder itself is unusable. */
const FOLDER_FIXES: Record<string, string> = {
  ENOENT: 'the folder cannot be created there; point --store (or "store") at a folder you can write',
  ENOTDIR: 'a file stands where the store needs a folder; point --store (or "store") at a folder',
  EEXIST: 'a file stands where the store needs a folder; point --store (or "store") at a folder',
  EISDIR: 'a folder stands where the store keeps a file; remove it',
  EACCES: "check the folder's permissions, or point --store at a folder you can write",
  EPERM: "check the folder's permissions, or point --store at a folder you can write",
  EROFS: 'the file system is read-only; point --store at a writable folder',
};

/** Every operation's file-system failures become one-line store errors naming the path and the fix. */
function withFolderErrors(store: Store): Store {
  const wrapped = { ...store };
  for (const [name, operation] of Object.entries(store)) {
    if (typeof operation !== 'function') continue;
    (wrapped as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await operation(...args);
      } catch (error) {
        const { code, path } = error as NodeJS.ErrnoException;
        // A copy that fails names its source (the staging folder, maybe on another disk): the store's disk is the full one.
        if (code === 'ENOSPC') throw new StoreError(`store folder ${store.location}: ${describeFullDisk((error as { dest?: string }).dest ?? path ?? store.location)}`);
        if (!code || !FOLDER_FIXES[code]) throw error;
        throw new StoreError(`store folder ${store.location}: ${code} at ${path ?? store.location}; ${FOLDER_FIXES[code]}`);
      }
    };
  }
  return wrapped;
}
