// Load (issue 9): resolveUpdate for many devices on one core.
import { fileURLToPath } from 'node:url';
import { run } from './measure.mjs';
import { limitRow, megabytes } from './report.mjs';

const RESOLVE_LOAD = fileURLToPath(new URL('./resolve-load.mjs', import.meta.url));
const perSecond = (rate) => (rate === null ? 'n/a' : `${Math.round(rate).toLocaleString('en')} devices/s`);

export async function resolveLoad(context) {
  const devices = context.quick ? 200_000 : 1_000_000;
  const result = await run({ cmd: process.execPath, args: [RESOLVE_LOAD, String(devices)] });
  const load = JSON.parse(result.stdout);
  context.log(`  index of 50 packages x 20 releases: ${load.indexBytes} bytes as the CLI writes it, ${load.indexBytesCompact} compact`);
  return [
    limitRow({
      id: 'load',
      scenario: `resolveUpdate, ${devices.toLocaleString('en')} devices, index of 50 packages × 20 releases, one core (per CPU second)`,
      ours: load.rate,
      format: perSecond,
      min: 200_000,
      note: `index ${megabytes(load.indexBytes)} as written`,
    }),
  ];
}
