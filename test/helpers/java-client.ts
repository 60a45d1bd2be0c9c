/**
 * The Java client (templates/clients/java/UpdateClient.java) for tests that
 * compare it with ours: compiled once per test process, run to completion.
 * `removeJavaClasses` (afterAll) deletes the compiled classes.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from './cli.js';

const JAVA_CLIENT = join(REPO_ROOT, 'templates', 'clients', 'java', 'UpdateClient.java');
export const JAVA_INSTALLED = ['java', 'javac'].every((tool) => spawnSync(tool, ['-version'], { stdio: 'ignore' }).status === 0);
let javaClasses: string | undefined;

/** Runs `java UpdateClient <args>`: its exit code, its one JSON line (undefined when stdout is not one) and stderr. */
export async function runJavaClient(args: string[]): Promise<{ code: number; json: any; stderr: string }> {
  if (!javaClasses) {
    const dir = await mkdtemp(join(tmpdir(), 'update-client-'));
    const compiled = spawnSync('javac', ['-d', dir, JAVA_CLIENT], { encoding: 'utf8' });
    if (compiled.status !== 0) throw new Error(`javac failed:\n${compiled.stderr}`);
    javaClasses = dir;
  }
  return new Promise((resolve) => {
    const child = spawn('java', ['-cp', javaClasses!, 'UpdateClient', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    child.on('close', (code) => {
      let json: unknown;
      try {
        json = JSON.parse(stdout.trim());
      } catch {
        json = undefined;
      }
      resolve({ code: code ?? 1, json, stderr });
    });
  });
}

export async function removeJavaClasses(): Promise<void> {
  if (javaClasses) await rm(javaClasses, { recursive: true, force: true });
  javaClasses = undefined;
}
