import { readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { ScannedFile } from './scan.js';
import { makeDirectory } from '../make-dir.js';

/**
 * Remembers each file's SHA-256 by path, size, mtime, ctime and inode (like
 * git's index), so an unchanged republish does not read file contents again.
 * ctime is the one a user cannot set: `cp -p` of a same-size file over the
 * old one, or a tree unzipped from a zip with fixed timestamps, keeps path,
 * size, mtime (and often the inode) but never the ctime.
 */
interface CacheEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  ino: number;
  sha256: string;
}

/** 2 added ctime: entries of version 1 cannot vouch for a file and are dropped (hashed once more). */
const CACHE_VERSION = 2;

/**
 * A file modified within this window of being hashed might change again
 * within the same timestamp tick, unseen: such entries are not trusted and
 * are hashed again next time (git's "racily clean" entries).
 */
const RACY_WINDOW_MS = 2_000;

export class HashCache {
  private constructor(
    private readonly path: string,
    private readonly entries: Map<string, CacheEntry>,
    private readonly hashedAt = Date.now(),
    /** Rewrite the file even when nothing was hashed (--no-cache replaces whatever it held). */
    private changed = false,
  ) {}

  /** The cache at `path`; with `ignoreEntries` (--no-cache) it starts empty, hashes everything and is rewritten. */
  static async load(path: string, ignoreEntries = false): Promise<HashCache> {
    if (ignoreEntries) return new HashCache(path, new Map(), Date.now(), true);
    try {
      const document = JSON.parse(await readFile(path, 'utf8'));
      if (document.version === CACHE_VERSION) return new HashCache(path, new Map(Object.entries(document.entries)));
    } catch {
      // missing or unreadable: start empty, it is only a cache
    }
    return new HashCache(path, new Map());
  }

  lookup(file: ScannedFile): string | undefined {
    const entry = this.entries.get(file.absolutePath);
    return entry && entry.size === file.size && entry.mtimeMs === file.mtimeMs && entry.ctimeMs === file.ctimeMs && entry.ino === file.ino
      ? entry.sha256
      : undefined;
  }

  remember(file: ScannedFile, sha256: string): void {
    this.changed = true;
    if (this.hashedAt - file.mtimeMs < RACY_WINDOW_MS) {
      this.entries.delete(file.absolutePath);
      return;
    }
    this.entries.set(file.absolutePath, { size: file.size, mtimeMs: file.mtimeMs, ctimeMs: file.ctimeMs, ino: file.ino, sha256 });
  }

  /**
   * Keeps only the files seen this run and writes atomically; failures are
   * ignored (it is a cache). Nothing hashed and nothing gone: nothing to write.
   */
  async save(seen: ScannedFile[]): Promise<void> {
    const keep = new Set(seen.map((file) => file.absolutePath));
    if (!this.changed && [...this.entries.keys()].every((path) => keep.has(path))) return;
    const entries = Object.fromEntries([...this.entries].filter(([path]) => keep.has(path)));
    try {
      await makeDirectory(dirname(this.path));
      const tempPath = `${this.path}.${process.pid}.tmp`;
      await writeFile(tempPath, JSON.stringify({ version: CACHE_VERSION, entries }));
      await rename(tempPath, this.path);
    } catch {
      // read-only checkout: hashing still works, just not faster next time
    }
  }
}
