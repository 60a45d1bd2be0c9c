// A throwaway project folder for the CLI: config, folder store, hash cache.
import { mkdir, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/update-publish.js', import.meta.url));

export async function makeProject(dir, packageDir, extraConfig = {}) {
  await mkdir(dir, { recursive: true });
  const config = { store: './releases', packages: { assets: { dir: relative(dir, packageDir) || '.' } }, ...extraConfig };
  await writeFile(join(dir, 'update-publish.config.json'), `${JSON.stringify(config, null, 2)}\n`);
  return {
    dir,
    storeDir: join(dir, 'releases'),
    /** Back to a first publish: no store, no hash cache. */
    async clean() {
      await rm(join(dir, 'releases'), { recursive: true, force: true });
      await rm(join(dir, '.update-publish'), { recursive: true, force: true });
    },
    publish: (extra = []) => ({ cmd: process.execPath, args: [CLI, 'publish', '--yes', '--json', '--quiet', ...extra], cwd: dir }),
  };
}

/** Checks a `publish --json` run reported the package as expected, and returns its document. */
export function publishedAs(result, status) {
  const document = JSON.parse(result.stdout);
  const got = document.packages?.[0]?.status;
  if (got !== status) throw new Error(`publish reported '${got}', expected '${status}'\n${result.stderr.slice(-1000)}`);
  return document;
}

/** Every file under dir with size and mtime, by relative path. */
export async function snapshot(dir) {
  const files = new Map();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath ?? entry.path, entry.name);
    const { size, mtimeMs } = await stat(path);
    files.set(relative(dir, path), { size, mtimeMs });
  }
  return files;
}

/** Files new or rewritten between two snapshots. */
export function written(before, after) {
  return [...after]
    .filter(([path, file]) => {
      const old = before.get(path);
      return !old || old.size !== file.size || old.mtimeMs !== file.mtimeMs;
    })
    .map(([path, file]) => ({ path, size: file.size }));
}
