/**
 * Helpers for end-to-end tests of the CLI.
 *
 * - `runCli(args, { cwd, env?, input?, spawn? })` runs the whole CLI in this
 *   process (src/cli/run.ts: the same program the binary runs, with captured
 *   streams), with CI=true and NO_COLOR=1 (override through env; `undefined`
 *   unsets). cwd and env belong to the run's session, never to this process,
 *   so in-process runs may overlap (Promise.all of runs is fine). It spawns the
 *   built binary (`node bin/update-publish.js`, build first: `npm test` does)
 *   only when the process itself is the point: `spawn: true`, or NODE_OPTIONS
 *   in env. Resolves (never rejects on a non-zero exit) with
 *   `{ code, stdout, stderr, json }`; `json` is stdout parsed when it is one
 *   JSON document.
 *   `succeeded(result)` returns `json` or throws with the exit code and stderr;
 *   `expectRefused(result, code, /message/)` checks a refusal is one line.
 * - `makeProject({ packages, config?, configFile? })` writes a temp project:
 *   `assets/<id>/…` per package and `update-publish.config.json` whose
 *   defaults (`store: './releases'`, one `dir` per package) are shallowly
 *   overlaid by `config`; `configFile: false` writes no config (tests of
 *   config discovery write their own). The returned `Project` knows its
 *   paths and edits package files. `removeProjects()` (afterAll) deletes them.
 * - `snapshotTree(dir)` maps every file under dir (POSIX relative path) to its
 *   SHA-256: compare two snapshots to assert "nothing was written".
 * - `unzipTo(zip, dir)` extracts a package with yauzl; `zipEntries(zip)` lists
 *   entries with their compression method (0 stored, 8 deflated).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import fg from 'fast-glob';
import yauzl from 'yauzl';
import { runCli as runInProcess } from '../../src/cli/run.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const CLI_PATH = join(REPO_ROOT, 'bin', 'update-publish.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is one JSON document. */
  json?: any;
}

export interface CliOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Written to stdin, which is then closed. */
  input?: string;
  /** Run the built binary in a child process. */
  spawn?: boolean;
}

/** What every run of the tests sees unless a test says otherwise: CI, no colour. */
const TEST_ENV = { CI: 'true', NO_COLOR: '1', FORCE_COLOR: undefined };

export async function runCli(args: string[], options: CliOptions): Promise<CliResult> {
  if (options.spawn || options.env?.NODE_OPTIONS !== undefined) return spawnToEnd(args, options);
  const stdout = captured();
  const stderr = captured();
  const code = await runInProcess(args, {
    cwd: options.cwd,
    env: { ...TEST_ENV, ...options.env },
    stdout: stdout.stream,
    stderr: stderr.stream,
    stdin: Readable.from(options.input ? [options.input] : []),
  });
  const out = stdout.text();
  return { code, stdout: out, stderr: stderr.text(), json: parseJson(out) };
}

function captured(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
      callback();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

/** The built binary in a child process, run to its end. */
function spawnToEnd(args: string[], options: CliOptions): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, ...TEST_ENV, ...options.env };
  for (const name of Object.keys(env)) if (env[name] === undefined) delete env[name];
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI_PATH, ...args], { cwd: options.cwd, env, stdio: 'pipe' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      const out = Buffer.concat(stdout).toString('utf8');
      resolvePromise({
        code: code ?? (signal ? 128 : 1),
        stdout: out,
        stderr: Buffer.concat(stderr).toString('utf8'),
        json: parseJson(out),
      });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** The JSON result of a run that must have exited 0; otherwise an error carrying its stderr. */
export function succeeded(result: CliResult): any {
  if (result.code !== 0) throw new Error(`update-publish exited ${result.code}:\n${result.stderr}`);
  return result.json;
}

/** Refused as users see it: this exit code, one `error:` line on stderr matching `message`, nothing on stdout, no stack. */
export function expectRefused(result: CliResult, exitCode: number, message: RegExp): void {
  if (result.code !== exitCode) throw new Error(`update-publish exited ${result.code}, not ${exitCode}:\n${result.stderr}`);
  const lines = result.stderr.trimEnd().split('\n');
  if (result.stdout !== '' || lines.length !== 1 || !lines[0].startsWith('error: ') || !message.test(lines[0])) {
    throw new Error(`expected one line 'error: …' matching ${message} and no stdout, got:\n${result.stderr}${result.stdout}`);
  }
}

function parseJson(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Relative path → content, for one package folder. */
export type FileTree = Record<string, string | Buffer>;

export interface ProjectSpec {
  packages?: Record<string, FileTree>;
  /** Shallowly overlaid on the default config. */
  config?: Record<string, unknown>;
  /** false: write no config file. */
  configFile?: false;
}

export interface Project {
  dir: string;
  /** The folder store (`releases/` unless the config says otherwise). */
  store: string;
  configPath: string;
  packageDir(id: string): string;
  /** Writes (creating or overwriting) files of a package. */
  write(id: string, files: FileTree): Promise<void>;
  remove(id: string, paths: string[]): Promise<void>;
  /** A file of the store, e.g. `channels/production/index.json`. */
  storePath(key: string): string;
  readStoreJson<T = any>(key: string): Promise<T>;
  run(args: string[], options?: Omit<CliOptions, 'cwd'>): Promise<CliResult>;
}

const projects: string[] = [];

export async function makeProject(spec: ProjectSpec = {}): Promise<Project> {
  const dir = await mkdtemp(join(tmpdir(), 'update-publish-e2e-'));
  projects.push(dir);
  const packages = spec.packages ?? { maps: { 'a.txt': 'a' } };
  const config = {
    store: './releases',
    packages: Object.fromEntries(Object.keys(packages).map((id) => [id, { dir: `assets/${id}` }])),
    ...spec.config,
  };
  const configPath = join(dir, 'update-publish.config.json');
  if (spec.configFile !== false) await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);

  const packageDir = (id: string) => join(dir, 'assets', id);
  const write = async (id: string, files: FileTree) => {
    for (const [path, content] of Object.entries(files)) {
      const target = join(packageDir(id), path);
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  };
  for (const [id, files] of Object.entries(packages)) {
    await mkdir(packageDir(id), { recursive: true });
    await write(id, files);
  }
  const store = resolve(dir, String(config.store));
  const storePath = (key: string) => join(store, ...key.split('/'));
  return {
    dir,
    store,
    configPath,
    packageDir,
    write,
    async remove(id, paths) {
      for (const path of paths) await rm(join(packageDir(id), path), { force: true });
    },
    storePath,
    readStoreJson: async (key) => JSON.parse(await readFile(storePath(key), 'utf8')),
    run: (args, options = {}) => runCli(args, { ...options, cwd: dir }),
  };
}

export async function removeProjects(): Promise<void> {
  await Promise.all(projects.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
}

export const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Every file under dir (POSIX relative path) → SHA-256; {} when dir is missing. */
export async function snapshotTree(dir: string, options: { ignore?: string[] } = {}): Promise<Record<string, string>> {
  const paths = await fg('**/*', { cwd: dir, dot: true, onlyFiles: true, ignore: options.ignore ?? [] }).catch(() => []);
  const snapshot: Record<string, string> = {};
  for (const path of paths.sort()) snapshot[path] = sha256(await readFile(join(dir, path)));
  return snapshot;
}

export interface ZipEntryInfo {
  name: string;
  /** 0 stored, 8 deflated. */
  compressionMethod: number;
  uncompressedSize: number;
  lastModified: Date;
}

export async function zipEntries(zipPath: string): Promise<ZipEntryInfo[]> {
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true });
  const entries: ZipEntryInfo[] = [];
  for await (const entry of zip.eachEntry()) {
    entries.push({
      name: entry.fileName,
      compressionMethod: entry.compressionMethod,
      uncompressedSize: entry.uncompressedSize,
      lastModified: entry.getLastModDate(),
    });
  }
  return entries;
}

/** Extracts every entry into dir (overwriting), refusing names that leave it; returns the names. */
export async function unzipTo(zipPath: string, dir: string): Promise<string[]> {
  const root = resolve(dir);
  const zip = await yauzl.openPromise(zipPath, { lazyEntries: true });
  const names: string[] = [];
  for await (const entry of zip.eachEntry()) {
    const target = resolve(root, entry.fileName);
    if (!target.startsWith(root + sep)) throw new Error(`zip entry ${entry.fileName} leaves ${root}`);
    names.push(entry.fileName);
    if (entry.fileName.endsWith('/')) {
      await mkdir(target, { recursive: true });
      continue;
    }
    await mkdir(dirname(target), { recursive: true });
    await pipeline(await zip.openReadStreamPromise(entry), createWriteStream(target));
  }
  return names;
}
