import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/** What a release records of where it came from: the notes given, and the commit it was made in. */
export interface Provenance {
  message?: string;
  commit?: string;
}

const run = promisify(execFile);
/** Bounded: a hung git (a lock, a network file system) must not hold a release back. */
const GIT_TIMEOUT_MS = 5_000;

/** The commit HEAD names when `dir` is inside a git work tree; undefined without git, a repository or a first commit. */
export async function gitCommit(dir: string): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: dir, timeout: GIT_TIMEOUT_MS });
    const commit = stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** The notes given (already checked) and the commit of the project folder. */
export async function provenanceOf(message: string | undefined, projectDir: string): Promise<Provenance> {
  const commit = await gitCommit(projectDir);
  return { ...(message !== undefined && { message }), ...(commit && { commit }) };
}
