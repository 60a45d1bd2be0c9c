import semver from 'semver';

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
  const due = sortSteps(steps).filter((step) => semver.lte(step.version, installed));
  if (due.length === 0) return [];

  const done = await record.load();
  const doneVersions = new Set(done.flatMap((version) => semver.valid(version) ?? []));
  const ran: string[] = [];
  for (const step of due) {
    if (doneVersions.has(step.version)) continue;
    await step.run();
    done.push(step.version);
    doneVersions.add(step.version);
    await record.save([...done]);
    ran.push(step.version);
  }
  return ran;
}

/** Steps with normalised versions, ascending; one step per version, since completion is recorded by version. */
function sortSteps(steps: readonly RunOnceStep[]): RunOnceStep[] {
  const seen = new Set<string>();
  const normalized = steps.map((step) => {
    const version = normalize(step.version, 'step version');
    if (seen.has(version)) throw new Error(`two run-once steps are registered for version ${version}; merge them into one`);
    seen.add(version);
    return { version, run: step.run };
  });
  return normalized.sort((a, b) => semver.compare(a.version, b.version));
}

function normalize(version: string, what: string): string {
  const valid = semver.valid(version);
  if (!valid) throw new Error(`${what} ${JSON.stringify(version)} is not a semver version (e.g. 1.4.0)`);
  return valid;
}
