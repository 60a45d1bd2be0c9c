import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Environment } from '../environment.js';
import type { WorkflowContext } from './context.js';

/** What a release records of where it came from: the notes given, and the commit it was made in. */
export interface Provenance {
  message?: string;
  commit?: string;
  /** The work tree had changes `commit` does not hold (history and --json record it; the index does not). */
  dirty?: boolean;
}

const run = promisify(execFile);
/** Bounded: a hung git (a lock, a network file system) must not hold a release back. */
const GIT_TIMEOUT_MS = 5_000;

/** The commit HEAD names when `dir` is inside a git work tree; undefined without git, a repository or a first commit. */
export async function gitCommit(dir: string, env: Environment): Promise<string | undefined> {
  try {
    const { stdout } = await run('git', ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}'], { cwd: dir, env, timeout: GIT_TIMEOUT_MS });
    const commit = stdout.trim();
    return /^[0-9a-f]{40,64}$/.test(commit) ? commit : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `paths` (relative to dir) hold changes, staged, unstaged or untracked, that HEAD does not. */
async function gitDirty(dir: string, env: Environment, paths: readonly string[]): Promise<boolean> {
  try {
    const { stdout } = await run('git', ['status', '--porcelain', '--untracked-files=normal', '--', ...paths], { cwd: dir, env, timeout: GIT_TIMEOUT_MS });
    return stdout.trim() !== '';
  } catch {
    return false;
  }
}

/**
 * The notes given (already checked), the commit of the project folder (git run with the run's
 * environment), and whether `paths` (the content released, relative to the project folder; not
 * checked without them) differ from that commit.
 */
export async function provenanceOf(message: string | undefined, project: Pick<WorkflowContext, 'configDir' | 'env'>, paths?: readonly string[]): Promise<Provenance> {
  const commit = await gitCommit(project.configDir, project.env);
  const dirty = commit !== undefined && paths !== undefined && (await gitDirty(project.configDir, project.env, paths));
  return { ...(message !== undefined && { message }), ...(commit && { commit }), ...(dirty && { dirty }) };
}

/** What a release itself records (the index devices read): the notes and the commit, not the work tree's state. */
export const releaseProvenance = ({ message, commit }: Provenance) => ({ ...(message !== undefined && { message }), ...(commit !== undefined && { commit }) });
