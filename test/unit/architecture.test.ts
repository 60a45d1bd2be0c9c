/**
 * The layers of src/ and the direction of their imports (docs/development.md "Source
 * layout"): each folder is one layer and imports only point down. Every
 * relative import counts: static, type-only, re-exports and import().
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Bottom to top. Ground is the files directly in src/. */
const LAYERS = ['ground', 'protocol', 'client', 'config', 'keys', 'store', 'release', 'channel', 'pack', 'hooks', 'receipts', 'workflows', 'console', 'cli'] as const;
type Layer = (typeof LAYERS)[number];

/** Ground files the device side may not use: their errors carry the CLI's exit codes. */
const PUBLISHER_GROUND = new Set(['errors.ts']);

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'";]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|\bimport\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)|(?:^|\n)\s*import\s*['"](\.{1,2}\/[^'"]+)['"]/g;

interface Edge {
  from: string;
  to: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative import in src/, as paths relative to src/ (`cli/main.ts` → `errors.ts`). */
function importEdges(root = SRC): Edge[] {
  return sourceFiles(root).flatMap((file) => {
    const text = readFileSync(file, 'utf8');
    return [...text.matchAll(IMPORT)].map((match) => {
      const specifier = (match[1] ?? match[2] ?? match[3]).replace(/\.js$/, '.ts');
      return { from: relative(root, file).split(sep).join('/'), to: relative(root, resolve(dirname(file), specifier)).split(sep).join('/') };
    });
  });
}

const layerOf = (path: string): string => (path.includes('/') ? path.split('/')[0] : 'ground');
const rank = (path: string) => LAYERS.indexOf(layerOf(path) as Layer);

const edges = importEdges();
const show = (found: Edge[]) => found.map(({ from, to }) => `${from} → ${to}`);

describe('architecture', () => {
  it('reads the imports it checks (a parser that finds none passes everything)', () => {
    expect(edges.length).toBeGreaterThan(300);
    expect(edges).toContainEqual({ from: 'cli/main.ts', to: 'cli/run.ts' });
    expect(edges).toContainEqual({ from: 'client/fetch/documents.ts', to: 'protocol/manifest.ts' });
  });

  it('every folder of src/ is a known layer', () => {
    const folders = new Set(edges.flatMap(({ from, to }) => [layerOf(from), layerOf(to)]));
    expect([...folders].filter((folder) => !LAYERS.includes(folder as Layer))).toEqual([]);
  });

  it('src/protocol/ imports only itself and ground files, never the publisher errors', () => {
    const bad = edges.filter(({ from, to }) => layerOf(from) === 'protocol' && (!['protocol', 'ground'].includes(layerOf(to)) || PUBLISHER_GROUND.has(to)));
    expect(show(bad)).toEqual([]);
  });

  it('src/client/ imports only itself, protocol and ground files, never the publisher errors', () => {
    const bad = edges.filter(
      ({ from, to }) => layerOf(from) === 'client' && (!['client', 'protocol', 'ground'].includes(layerOf(to)) || PUBLISHER_GROUND.has(to)),
    );
    expect(show(bad)).toEqual([]);
  });

  it('nothing outside src/cli/ imports from it', () => {
    expect(show(edges.filter(({ from, to }) => layerOf(from) !== 'cli' && layerOf(to) === 'cli'))).toEqual([]);
  });

  it('src/console/ (the web console, a top layer beside cli) is started by the console command alone', () => {
    expect(show(edges.filter(({ from, to }) => layerOf(to) === 'console' && layerOf(from) !== 'console' && from !== 'cli/commands/console.ts'))).toEqual([]);
    expect(edges).toContainEqual({ from: 'cli/commands/console.ts', to: 'console/server.ts' });
  });

  it('ground files import no other file of ours', () => {
    expect(show(edges.filter(({ from }) => layerOf(from) === 'ground'))).toEqual([]);
  });

  it("update-publish/client stays pure JavaScript: nothing it loads imports a Node built-in (apps run it in React Native and edge runtimes)", () => {
    const reached = new Set<string>();
    const visit = (file: string) => {
      if (reached.has(file)) return;
      reached.add(file);
      for (const { from, to } of edges) if (from === file) visit(to);
    };
    visit('client/index.ts');
    const nodeImports = [...reached].filter((file) => /from\s*['"]node:|import\(\s*['"]node:/.test(readFileSync(join(SRC, file), 'utf8')));
    expect(reached.size).toBeGreaterThan(5);
    expect(nodeImports).toEqual([]);
  });

  it('every import points down the layers (or stays in its layer)', () => {
    expect(show(edges.filter(({ from, to }) => rank(to) > rank(from)))).toEqual([]);
  });

  it("cwd and env belong to the CLI session: src/ reads the process's folder and variables only where an entry says why", () => {
    // Issue 21: overlapping in-process runs (tests, the console) must never see each other's folder or variables.
    const allowed: Record<string, string> = {
      'cli/main.ts': 'the process entry: hands the process folder and variables to its session (and silences the SDK notice)',
      'cli/run.ts': "runCli's defaults: the process folder and variables under the run's own, read, never written",
      'client/env-secret.ts': 'device library: env:NAME reads the process variables when an app passes no environment',
      'client/trusted-keys.ts': 'device library: key paths start at the process folder when an app passes no base folder',
      'client/fetch/credentials-command.ts': 'device library: the credentials command inherits the process variables when an app passes none',
    };
    const code = (file: string) => readFileSync(join(SRC, file), 'utf8').replace(/^\s*(\/\/|\/?\*).*$/gm, '');
    const files = sourceFiles(SRC).map((file) => relative(SRC, file).split(sep).join('/'));
    const reading = files.filter((file) => /\bprocess\.(cwd\s*\(|chdir\b|env\b)/.test(code(file)));
    expect(reading.length).toBeGreaterThan(0);
    expect(reading.filter((file) => !(file in allowed))).toEqual([]);
    // An allowance that is no longer used goes, so the list stays the truth.
    expect(Object.keys(allowed).filter((file) => !reading.includes(file))).toEqual([]);
    // Only the process entry may change the process: no chdir, no variable set or deleted.
    const changing = files.filter((file) => /\bprocess\.chdir\b|\bprocess\.env(\.\w+|\[[^\]]+\])\s*(\?\?|\|\||&&)?=(?!=)|delete\s+process\.env/.test(code(file)));
    expect(changing).toEqual(['cli/main.ts']);
  });

  it('channel documents are written only through the change pipeline (one writer, one template)', () => {
    const text = (file: string) => readFileSync(join(SRC, file), 'utf8');
    const files = sourceFiles(SRC).map((file) => relative(SRC, file).split(sep).join('/'));
    const calling = (pattern: RegExp) => files.filter((file) => pattern.test(text(file).replace(/^\s*(\/\/|\*).*$/gm, '')));
    // THE writer: stamping, size cap, archive, snapshots. Called by the template, and by refresh (stamps only: no history, no hooks).
    expect(calling(/\bwriteChannelDocument\(/)).toEqual(['workflows/change-pipeline.ts', 'workflows/refresh.ts']);
    // The conditional-write loop under it: the writer, and the logs and the archive beside the documents.
    expect(calling(/\bupdateDocument\(/).sort()).toEqual(['channel/archive.ts', 'channel/history.ts', 'channel/versioned-document.ts']);
    // Raw store writes of JSON documents: the loop itself, create-only objects, pending records, whitelists, re-signing in place, and root documents (create-only, signed by root keys).
    expect(calling(/\.writeDocument\(/).filter((file) => !file.startsWith('store/')).sort()).toEqual([
      'channel/pending.ts',
      'channel/update-document.ts',
      'channel/whitelists.ts',
      'workflows/keys-resign.ts',
      'workflows/keys-root.ts',
    ]);
    // Every change of a channel document goes through runChange: release changes, documents, publish, base add, channel create.
    expect(calling(/\brunChange[<(]/).sort()).toEqual([
      'workflows/base.ts',
      'workflows/change-pipeline.ts',
      'workflows/change-release.ts',
      'workflows/channels.ts',
      'workflows/document-change.ts',
      'workflows/publish.ts',
    ]);
  });
});
