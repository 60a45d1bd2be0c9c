// Scenario 4: scan + SHA-256 of a whole tree (no hash cache) vs sha256sum.
import { fileURLToPath } from 'node:url';
import { alternate, run } from './measure.mjs';
import { ratioRow, rssPair } from './report.mjs';
import { mainTreeSpec } from './scenario-publish.mjs';

const HASH_TREE = fileURLToPath(new URL('./hash-tree.mjs', import.meta.url));
const rate = (bytes) => (bytes === null ? 'n/a' : `${(bytes / 1e6).toFixed(0)} MB/s`);

export async function hashing(context) {
  const tree = await context.tree('main', mainTreeSpec(context.quick));
  // Both read from the page cache: warm it first.
  await run({ cmd: 'sh', args: ['-c', 'find . -type f -print0 | xargs -0 cat > /dev/null'], cwd: tree.root });
  const results = await alternate(
    [
      { name: 'ours', command: { cmd: process.execPath, args: [HASH_TREE, tree.root] } },
      {
        name: 'sha256sum',
        command: { cmd: 'sh', args: ['-c', 'find . -type f -print0 | xargs -0 sha256sum > /dev/null'], cwd: tree.root },
      },
    ],
    context.rounds,
    context.log,
  );
  const { bytes, files } = JSON.parse(results.ours.runs[0].stdout);
  return [
    ratioRow({
      id: '4',
      scenario: `hashing throughput, ${files} files / ${Math.round(bytes / 1e6)} MB, scan + SHA-256 vs \`find | xargs sha256sum\``,
      ours: bytes / (results.ours.wallMs / 1000),
      baseline: bytes / (results.sha256sum.wallMs / 1000),
      format: rate,
      min: 1.5,
      rss: rssPair(results.ours, results.sha256sum),
    }),
  ];
}
