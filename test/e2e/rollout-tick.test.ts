/**
 * `rollout tick` against a seeded fleet of 20,000 devices reporting through
 * CloudFront logs (duplicates, malformed lines, index GETs, late files): the
 * good release (0.3 % failing launches) is advanced stage by stage to 100 %,
 * the bad one (6 %) is halted before it passes its first stage; each step is
 * a real rollout/halt change (history with automatic: true and the evidence,
 * hooks told the same), --now stands in for the clock everywhere.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import { Fleet, type FleetRelease } from '../helpers/fleet.js';

const HOUR = 3_600_000;
const POLICY = { stages: [5, 25, 50, 100], bake: '1h', minLaunches: 200, maxFailurePercent: 2, haltFailurePercent: 4, minFailures: 5 };
const INDEX = 'channels/production/index.json';

let project: Project;

beforeAll(async () => {
  project = await makeProject({
    packages: { maps: { 'a.txt': 'good' }, levels: { 'l.txt': 'bad' } },
    config: {
      receipts: { url: 'r/v1', source: 'cdn-logs' },
      rolloutPolicy: POLICY,
      hooks: [{ type: 'command', on: ['rollout', 'halt'], run: 'cat >> hook-events.ndjson && echo >> hook-events.ndjson' }],
    },
  });
  succeeded(await project.run(['publish', '--rollout', '5', '--yes', '--json']));
});

afterAll(removeProjects);

describe('rollout tick over a simulated fleet', () => {
  it('advances the good release to 100 % and halts the bad one at its first stage', async () => {
    const index = await project.readStoreJson(INDEX);
    const version = (id: string) => index.packages[id].releases[0].version as string;
    const good: FleetRelease = { package: 'maps', version: version('maps'), failureRate: 0.003 };
    const bad: FleetRelease = { package: 'levels', version: version('levels'), failureRate: 0.06 };
    const fleet = new Fleet({ devices: 20_000, seed: 22, channel: 'production', logDir: join(project.dir, 'cdn-logs') });
    const start = Math.ceil(Date.parse(index.updatedAt) / HOUR) * HOUR;
    const served = new Map<string, { rollout: number; state: string }>([
      ['maps', { rollout: 5, state: 'active' }],
      ['levels', { rollout: 5, state: 'active' }],
    ]);
    const timeline: { hour: number; package: string; decision: string; from: number; to: number }[] = [];
    let exitCodes: number[] = [];
    let lastNow = '';
    for (let hour = 0; hour < 8; hour++) {
      await fleet.simulateHour(start + hour * HOUR, [good, bad], (release) => served.get(release.package)!);
      lastNow = new Date(start + (hour + 1) * HOUR).toISOString();
      const result = await project.run(['rollout', 'tick', '--yes', '--json', '--exit-code', '--now', lastNow]);
      expect(result.stderr).not.toMatch(/error/);
      exitCodes.push(result.code);
      for (const decision of result.json.decisions) {
        timeline.push({ hour, package: decision.package, decision: decision.decision, from: decision.from, to: decision.to });
        expect(Object.keys(decision)).toEqual(['package', 'version', 'channel', 'decision', 'from', 'to', 'reason', 'evidence']);
        expect(Object.keys(decision.evidence)).toEqual(['launches', 'failures', 'failureRate', 'failureRateLower', 'failureRateUpper', 'stageStartedAt']);
      }
      const now = await project.readStoreJson(INDEX);
      for (const id of ['maps', 'levels']) served.set(id, { rollout: now.packages[id].releases[0].rules.rollout, state: now.packages[id].releases[0].state });
    }
    if (process.env.FLEET_TIMELINE) console.log(JSON.stringify(timeline), fleet.linesWritten);
    const of = (id: string) => timeline.filter((entry) => entry.package === id);
    // The good release goes through every stage, each after its bake, and completes.
    expect(of('maps').filter((entry) => entry.decision !== 'held').map((entry) => [entry.from, entry.to])).toEqual([[5, 25], [25, 50], [50, 100]]);
    expect(of('maps').at(-1)!.decision).toBe('complete');
    expect(served.get('maps')).toEqual({ rollout: 100, state: 'active' });
    // The bad release is halted at 5 % and never advanced.
    expect(of('levels').some((entry) => entry.decision === 'advanced' || entry.decision === 'complete')).toBe(false);
    expect(of('levels').filter((entry) => entry.decision === 'halted')).toHaveLength(1);
    expect(served.get('levels')).toEqual({ rollout: 5, state: 'halted' });
    // --exit-code: 1 exactly on the tick that halted.
    const haltHour = of('levels').find((entry) => entry.decision === 'halted')!.hour;
    expect(exitCodes.map((code, hour) => [hour, code]).filter(([, code]) => code !== 0)).toEqual([[haltHour, 1]]);
    expect(fleet.installs('maps')).toBeGreaterThan(8_000);
    expect(fleet.installs('levels')).toBeLessThan(1_100);

    // A rerun at the same moment changes nothing.
    const before = await readFile(project.storePath(INDEX), 'utf8');
    const rerun = succeeded(await project.run(['rollout', 'tick', '--yes', '--json', '--now', lastNow]));
    expect(rerun.decisions).toEqual([]);
    expect(await readFile(project.storePath(INDEX), 'utf8')).toBe(before);

    // History: automatic entries with their evidence, stamped with --now.
    const history = succeeded(await project.run(['history', 'levels', '--json']));
    const halted = (history.entries ?? history).find((entry: any) => entry.action === 'halt');
    expect(halted).toMatchObject({ automatic: true, at: new Date(start + (haltHour + 1) * HOUR).toISOString() });
    expect(halted.details.evidence.failures).toBeGreaterThanOrEqual(POLICY.minFailures);
    expect(halted.details.evidence.failureRateLower * 100).toBeGreaterThanOrEqual(POLICY.haltFailurePercent);
    // Hooks heard the same, with the evidence.
    const events = (await readFile(join(project.dir, 'hook-events.ndjson'), 'utf8')).trim().split('\n').filter(Boolean).map((line) => JSON.parse(line));
    expect(events.filter((event) => event.event === 'halt').map((event) => event.package)).toEqual(['levels']);
    expect(events.filter((event) => event.event === 'rollout').map((event) => event.rollout)).toEqual([25, 50, 100]);
    for (const event of events) {
      expect(event.automatic).toBe(true);
      expect(event.evidence.launches).toBeGreaterThan(0);
    }
    expect(events.find((event) => event.event === 'halt').at).toBe(halted.at);
  }, 240_000);
});

describe('rollout tick: dry run, held and bad input', () => {
  it('a dry run or a held release writes nothing', async () => {
    const dry = await makeProject({ config: { receipts: { url: 'r/v1', source: 'logs.ndjson' }, rolloutPolicy: POLICY } });
    succeeded(await dry.run(['publish', '--rollout', '5', '--yes', '--json']));
    const { writeFile } = await import('node:fs/promises');
    const index = await dry.readStoreJson(INDEX);
    const at = Date.parse(index.updatedAt) + 60_000;
    const lines = Array.from({ length: 300 }, (_, i) =>
      JSON.stringify({ at: new Date(at).toISOString(), query: `e=launch_ok&ch=production&pkg=maps&rel=${index.packages.maps.releases[0].version}&iid=i${i}&eid=e${i}` }),
    );
    await writeFile(join(dry.dir, 'logs.ndjson'), `${lines.join('\n')}\n`);
    const before = await readFile(dry.storePath(INDEX), 'utf8');
    const held = succeeded(await dry.run(['rollout', 'tick', '--yes', '--json', '--now', new Date(at + 10 * 60_000).toISOString()]));
    expect(held.decisions[0]).toMatchObject({ decision: 'held', from: 5, to: 5 });
    expect(held.decisions[0].reason).toMatch(/baking at 5 %: \d+ min left of 1h/);
    const later = new Date(at + 2 * HOUR).toISOString();
    const planned = succeeded(await dry.run(['rollout', 'tick', '--dry-run', '--json', '--now', later]));
    expect(planned.decisions[0]).toMatchObject({ decision: 'advanced', from: 5, to: 25 });
    expect(await readFile(dry.storePath(INDEX), 'utf8')).toBe(before);
  });

  it('a rule preset carries its own policy: releases published with it follow it', async () => {
    const preset = await makeProject({
      config: { receipts: { url: 'r/v1', source: 'logs.ndjson' }, rules: { canary: { rollout: 5, rolloutPolicy: { stages: [5, 100], bake: '1h', minLaunches: 10, maxFailurePercent: 10, haltFailurePercent: 20 } } } },
    });
    const { writeFile } = await import('node:fs/promises');
    // Without the preset there is no policy anywhere: exit 2.
    succeeded(await preset.run(['publish', '--rollout', '5', '--yes', '--json']));
    expectRefused(await preset.run(['rollout', 'tick', '--yes']), 2, /no rolloutPolicy applies on channel 'production'/);
    await preset.write('maps', { 'a.txt': 'canary' });
    succeeded(await preset.run(['publish', '--rules', 'canary', '--yes', '--json']));
    const index = await preset.readStoreJson(INDEX);
    const release = index.packages.maps.releases[0];
    const at = Date.parse(index.updatedAt) + 60_000;
    const lines = Array.from({ length: 50 }, (_, i) => JSON.stringify({ at: new Date(at).toISOString(), query: `e=launch_ok&ch=production&pkg=maps&rel=${release.version}&iid=i${i}&eid=e${i}` }));
    await writeFile(join(preset.dir, 'logs.ndjson'), `${lines.join('\n')}\n`);
    const tick = succeeded(await preset.run(['rollout', 'tick', '--yes', '--json', '--now', new Date(at + 2 * HOUR).toISOString()]));
    expect(tick.decisions).toEqual([expect.objectContaining({ package: 'maps', version: release.version, decision: 'complete', from: 5, to: 100 })]);
    expect((await preset.readStoreJson(INDEX)).packages.maps.releases[0].rules).not.toHaveProperty('rolloutPolicy');
  });

  it('a channel with no policy: exit 2; a policy that does not end at 100 or a threshold above 100: refused at load, naming the field', async () => {
    const none = await makeProject({ config: { receipts: { url: 'r/v1', source: 'x' } } });
    succeeded(await none.run(['publish', '--rollout', '5', '--yes', '--json']));
    expectRefused(await none.run(['rollout', 'tick', '--yes']), 2, /no rolloutPolicy applies on channel 'production'/);
    const bad = await makeProject({ config: { rolloutPolicy: { stages: [10, 5, 100] } } });
    expectRefused(await bad.run(['rollout', 'tick', '--yes']), 2, /rolloutPolicy\.stages: stages must ascend/);
    const short = await makeProject({ config: { packages: { maps: { dir: 'assets/maps', rolloutPolicy: { stages: [1, 50], haltFailurePercent: 120 } } } } });
    expectRefused(await short.run(['rollout', 'tick', '--yes']), 2, /packages\.maps\.rolloutPolicy\.stages: stages must end at 100; packages\.maps\.rolloutPolicy\.haltFailurePercent: haltFailurePercent must be 0–100/);
  });
});
