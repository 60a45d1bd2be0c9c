// Child process of the load scenario: resolveUpdate (the rule module devices
// and edge functions run) for many devices against a 50 packages x 20
// releases index, on one core. usage: node resolve-load.mjs DEVICES
import { resolveUpdate } from '../../dist/client/index.js';
import { serializeDocument } from '../../dist/protocol/manifest.js';
import { prng } from './trees.mjs';

const PACKAGES = 50;
const RELEASES = 20;
const devices = Number(process.argv[2] ?? 1_000_000);
const random = prng(9);
const pick = (list) => list[Math.floor(random() * list.length)];
const hex = () => Array.from({ length: 8 }, () => Math.floor(random() * 2 ** 32).toString(16).padStart(8, '0')).join('');

/** Rules as people write them: mostly plain full rollouts, some gated by platform, app version, time, attributes, whitelist. */
function rulesFor(version) {
  const rules = { rollout: pick([100, 100, 100, 50, 25, 10, 5, 1]), mandatory: random() < 0.1 };
  if (random() < 0.3) rules.platforms = pick([['ios'], ['android'], ['ios', 'android']]);
  if (random() < 0.4) rules.appVersion = pick(['>=2.0.0', '>=3.1.0 <4', '^2.5.0', '~3.0.0', '>=1.0.0 <2 || >=3.0.0']);
  if (random() < 0.1) rules.startsAt = '2024-01-01T00:00:00.000Z';
  if (random() < 0.05) rules.endsAt = '2030-01-01T00:00:00.000Z';
  if (random() < 0.1) rules.attributes = { tier: 'beta' };
  if (random() < 0.1) rules.whitelist = ['qa'];
  return rules;
}

const index = { schemaVersion: 1, channel: 'production', updatedAt: new Date(0).toISOString(), packages: {} };
for (let p = 0; p < PACKAGES; p++) {
  const id = `package-${String(p).padStart(2, '0')}`;
  const releases = [];
  for (let r = RELEASES - 1; r >= 0; r--) {
    const version = `1.${r}.0`;
    const base = `packages/${id}/${version}`;
    releases.push({
      version,
      releasedAt: new Date(Date.UTC(2025, 0, 1 + r)).toISOString(),
      manifest: { key: `${base}/manifest.json`, sha256: hex() },
      full: { key: `${base}/full.zip`, size: 1_000_000 + r, sha256: hex() },
      deltas: [1, 2, 3]
        .filter((back) => r - back >= 0)
        .map((back) => ({ from: `1.${r - back}.0`, key: `${base}/delta-from-1.${r - back}.0.zip`, size: 10_000 * back, sha256: hex() })),
      rules: rulesFor(version),
      state: r === RELEASES - 2 && p % 10 === 0 ? 'halted' : r === RELEASES - 3 && p % 25 === 0 ? 'rolled-back' : 'active',
    });
  }
  index.packages[id] = { releases };
}

const ids = Object.keys(index.packages);
const platforms = ['ios', 'android'];
const appVersions = ['1.9.3', '2.0.0', '2.6.1', '3.0.4', '3.2.0', '4.1.0'];
const installedVersions = [undefined, '1.0.0', '1.10.0', '1.16.0', '1.17.0', '1.18.0', '1.19.0'];
const beta = { tier: 'beta' };
const whitelist = (list, deviceId) => list === 'qa' && deviceId.endsWith('7');
const now = new Date('2025-06-01T00:00:00Z');

function evaluate(count, offset) {
  let updates = 0;
  for (let i = offset; i < offset + count; i++) {
    const resolution = resolveUpdate(
      index,
      {
        package: ids[i % PACKAGES],
        platform: platforms[i & 1],
        appVersion: appVersions[i % appVersions.length],
        deviceId: `device-${i}`,
        installed: installedVersions[i % installedVersions.length],
        now,
        attributes: i % 3 === 0 ? beta : undefined,
      },
      whitelist,
    );
    if (resolution.update) updates++;
  }
  return updates;
}

evaluate(50_000, devices); // warm up the JIT on other device ids
// CPU time, not wall: on a shared machine the process may wait for a core, and the target is per core.
const started = process.cpuUsage();
const startedWall = process.hrtime.bigint();
const updates = evaluate(devices, 0);
const wallSeconds = Number(process.hrtime.bigint() - startedWall) / 1e9;
const { user, system } = process.cpuUsage(started);
const cpuSeconds = (user + system) / 1e6;
const serialized = serializeDocument(index);
process.stdout.write(
  `${JSON.stringify({
    devices,
    cpuSeconds,
    wallSeconds,
    rate: devices / cpuSeconds,
    updates,
    indexBytes: serialized.length,
    indexBytesCompact: JSON.stringify(index).length,
  })}\n`,
);
