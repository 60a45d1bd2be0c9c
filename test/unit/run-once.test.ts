import { describe, expect, it } from 'vitest';
import { runOnceSteps, type RunOnceRecord, type RunOnceStep } from '../../src/client/run-once.js';

/** An in-memory record that keeps every save, like a device's storage would across restarts. */
function memoryRecord(initial: string[] = []) {
  const saves: string[][] = [];
  let stored = [...initial];
  const record: RunOnceRecord = {
    load: async () => [...stored],
    save: async (done) => {
      stored = [...done];
      saves.push([...done]);
    },
  };
  return { record, saves, stored: () => stored };
}

/** Steps that log their version when run; `failing` versions throw. */
function loggingSteps(versions: string[], log: string[], failing = new Set<string>()): RunOnceStep[] {
  return versions.map((version) => ({
    version,
    run: async () => {
      if (failing.has(version)) throw new Error(`step ${version} failed`);
      log.push(version);
    },
  }));
}

describe('runOnceSteps', () => {
  it('runs every due step in ascending version order, whatever the registration order', async () => {
    const log: string[] = [];
    const { record, stored } = memoryRecord();
    const ran = await runOnceSteps(loggingSteps(['1.10.0', '1.2.0', '1.9.0', '0.9.0'], log), record, '1.10.0');
    expect(log).toEqual(['0.9.0', '1.2.0', '1.9.0', '1.10.0']);
    expect(ran).toEqual(log);
    expect(stored()).toEqual(log);
  });

  it('catches up on all skipped versions after a long time offline, but not on future ones', async () => {
    const log: string[] = [];
    const { record } = memoryRecord(['1.0.0']);
    await runOnceSteps(loggingSteps(['1.0.0', '1.1.0', '1.2.0', '1.3.0', '2.0.0'], log), record, '1.3.0');
    expect(log).toEqual(['1.1.0', '1.2.0', '1.3.0']);
  });

  it('runs each step exactly once across starts', async () => {
    const log: string[] = [];
    const { record } = memoryRecord();
    const steps = loggingSteps(['1.0.0', '1.1.0', '2.0.0'], log);
    await runOnceSteps(steps, record, '1.1.0');
    await runOnceSteps(steps, record, '1.1.0');
    expect(await runOnceSteps(steps, record, '2.0.0')).toEqual(['2.0.0']);
    await runOnceSteps(steps, record, '2.0.0');
    expect(log).toEqual(['1.0.0', '1.1.0', '2.0.0']);
  });

  it('records each step right after it succeeds, one save per step', async () => {
    const { record, saves } = memoryRecord(['0.1.0']);
    await runOnceSteps(loggingSteps(['1.0.0', '1.1.0'], []), record, '1.1.0');
    expect(saves).toEqual([
      ['0.1.0', '1.0.0'],
      ['0.1.0', '1.0.0', '1.1.0'],
    ]);
  });

  it('stops at a failing step, keeps earlier successes, and retries it next start', async () => {
    const log: string[] = [];
    const { record, stored } = memoryRecord();
    const failing = new Set(['1.1.0']);
    const steps = loggingSteps(['1.0.0', '1.1.0', '1.2.0'], log, failing);
    await expect(runOnceSteps(steps, record, '1.2.0')).rejects.toThrow('step 1.1.0 failed');
    expect(log).toEqual(['1.0.0']);
    expect(stored()).toEqual(['1.0.0']);

    failing.clear();
    expect(await runOnceSteps(steps, record, '1.2.0')).toEqual(['1.1.0', '1.2.0']);
    expect(log).toEqual(['1.0.0', '1.1.0', '1.2.0']);
  });

  it('runs a step again when the app was killed before it was recorded', async () => {
    const log: string[] = [];
    const { record } = memoryRecord();
    const crashingRecord: RunOnceRecord = {
      load: record.load,
      save: async () => {
        throw new Error('killed before save');
      },
    };
    await expect(runOnceSteps(loggingSteps(['1.0.0'], log), crashingRecord, '1.0.0')).rejects.toThrow('killed');
    await runOnceSteps(loggingSteps(['1.0.0'], log), record, '1.0.0');
    expect(log).toEqual(['1.0.0', '1.0.0']);
  });

  it('matches recorded versions by SemVer precedence (build metadata ignored), and orders pre-releases before releases', async () => {
    const log: string[] = [];
    const { record } = memoryRecord(['1.0.0+build.7']);
    await runOnceSteps(loggingSteps(['2.0.0', '1.0.0', '2.0.0-beta.1'], log), record, '2.0.0');
    expect(log).toEqual(['2.0.0-beta.1', '2.0.0']);
  });

  it('does not touch the record when nothing is due', async () => {
    let loads = 0;
    const record: RunOnceRecord = {
      load: async () => {
        loads++;
        return [];
      },
      save: async () => expect.fail('nothing to save'),
    };
    expect(await runOnceSteps(loggingSteps(['3.0.0'], []), record, '2.0.0')).toEqual([]);
    expect(loads).toBe(0);
  });

  it('refuses invalid or duplicate versions before running anything', async () => {
    const log: string[] = [];
    const { record } = memoryRecord();
    await expect(runOnceSteps(loggingSteps(['1.0.0', 'latest'], log), record, '1.0.0')).rejects.toThrow(/"latest" is not a SemVer 2\.0\.0 version/);
    await expect(runOnceSteps(loggingSteps(['1.0.0', 'v1.0.0'], log), record, '1.0.0')).rejects.toThrow(/"v1\.0\.0" is not a SemVer 2\.0\.0 version/);
    await expect(runOnceSteps(loggingSteps(['1.0.0', '1.0.0+b'], log), record, '1.0.0')).rejects.toThrow(/two run-once steps .* 1\.0\.0/);
    await expect(runOnceSteps(loggingSteps(['1.0.0'], log), record, 'banana')).rejects.toThrow(/installedVersion/);
    expect(log).toEqual([]);
  });
});
