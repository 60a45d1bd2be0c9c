/**
 * The Java client (templates/clients/java/UpdateClient.java) for tests that
 * compare it with ours: compiled once per test process (a source launch
 * compiles on every run: ~1.5 CPU seconds each), run to completion.
 * `removeJavaClasses` (afterAll) deletes the compiled classes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

export const JAVA_CLIENT = join(REPO_ROOT, 'templates', 'clients', 'java', 'UpdateClient.java');
export const JAVA_INSTALLED = ['java', 'javac'].every((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0);
let javaClasses: string | undefined;

export interface JavaResult {
  code: number;
  stdout: string;
  stderr: string;
  /** The one JSON line on stdout; undefined when stdout is anything else. */
  json: any;
}

export interface JavaRunOptions {
  cwd?: string;
  /** Variables over the test process's. */
  env?: Record<string, string>;
  /** `source`: `java UpdateClient.java …`, as its users launch it; `compiled` (default): the classes javac wrote once. */
  launch?: 'source' | 'compiled';
}

/** Runs `java UpdateClient <args>`: its exit code, output, and its one JSON line. */
export async function runJavaClient(args: string[], options: JavaRunOptions = {}): Promise<JavaResult> {
  const launch = options.launch ?? 'compiled';
  if (launch === 'compiled' && !javaClasses) {
    const dir = await mkdtemp(join(tmpdir(), 'update-client-'));
    const compiled = spawnSync('javac', ['-d', dir, JAVA_CLIENT], { encoding: 'utf8' });
    if (compiled.status !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
    javaClasses = dir;
  }
  const command = launch === 'source' ? [JAVA_CLIENT] : ['-cp', javaClasses!, 'UpdateClient'];
  return new Promise((resolve, reject) => {
    const child = spawn('java', [...command, ...args], { cwd: options.cwd, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const out = Buffer.concat(stdout).toString('utf8');
      const lines = out.trim().split('\n');
      let json: unknown;
      try {
        json = lines.length === 1 ? JSON.parse(lines[0]) : undefined;
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? 1, stdout: out, stderr: Buffer.concat(stderr).toString('utf8'), json });
    });
  });
}

export async function removeJavaClasses(): Promise<void> {
  if (javaClasses) await rm(javaClasses, { recursive: true, force: true });
  javaClasses = undefined;
}
