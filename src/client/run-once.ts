import { ProtocolError } from '../protocol/errors.js';
import { compareVersions, parseProtocolVersion } from '../protocol/version.js';

/** Work an app does once when content of `version` (or later) is installed, e.g. a data migration. */
export interface RunOnceStep {
  version: string;
  run: () => Promise<void> | void;
}

/** Where the app keeps the versions whose steps completed (a file, key-value storage, a DB row). */
export interface RunOnceRecord {
  load(): Promise<string[]>;
  save(done: string[]): Promise<void>;
}

/**
 * Runs, in ascending version order, every step up to installedVersion that has
 * not completed yet, so a device that skipped versions catches up on all of
 * them. A step is recorded only after it succeeds; a throwing step stops the
 * run (later steps depend on it) and runs again on the next call. Returns the
 * versions run now. Call it once per start, not concurrently.
 */
export async function runOnceSteps(
  steps: readonly RunOnceStep[],
  record: RunOnceRecord,
  installedVersion: string,
): Promise<string[]> {
  const installed = normalize(installedVersion, 'installedVersion');
  const due = sortSteps(steps).filter((step) => compareVersions(step.version, installed) <= 0);
  if (due.length === 0) return [];

  const done = await record.load();
  // Recorded versions count by precedence (1.2.0+b is 1.2.0); an entry that is no version is kept, never matched.
  const isDone = (version: string) => done.some((entry) => parseProtocolVersion(entry)?.compare(version) === 0);
  const ran: string[] = [];
  for (const step of due) {
    if (isDone(step.version)) continue;
    await step.run();
    done.push(step.version);
    await record.save([...done]);
    ran.push(step.version);
  }
  return ran;
}

/** Steps ascending by precedence; one step per version (two of equal precedence are refused), since completion is recorded by version. */
function sortSteps(steps: readonly RunOnceStep[]): RunOnceStep[] {
  const sorted = steps.map((step) => ({ version: normalize(step.version, 'step version'), run: step.run })).sort((a, b) => compareVersions(a.version, b.version));
  for (let i = 1; i < sorted.length; i++) {
    if (compareVersions(sorted[i - 1].version, sorted[i].version) === 0) {
      throw new ProtocolError(`two run-once steps are registered for version ${sorted[i].version}; merge them into one`, 'input');
    }
  }
  return sorted;
}

/** Exactly SemVer 2.0.0 (PROTOCOL.md §1.1), as written. */
function normalize(version: string, what: string): string {
  if (!parseProtocolVersion(version)) throw new ProtocolError(`${what} ${JSON.stringify(version)} is not a SemVer 2.0.0 version (e.g. 1.4.0)`, 'input');
  return version;
}
