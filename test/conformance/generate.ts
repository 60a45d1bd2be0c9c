/**
 * Writes the conformance vectors: `npm run conformance:generate`.
 *
 * Every answer comes from the TypeScript client (evaluate.ts); cases whose
 * answer is the point also state it (`want`) and the generator stops when the
 * client disagrees. Keys, nonces and zips are fixed, so the output is the same
 * on every run: test/unit/conformance.test.ts fails when the checked-in files
 * differ from what this writes (the protocol or the packer changed: look at
 * the diff, then regenerate).
 */
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { evaluate, fixturePath } from './evaluate.js';
import { FIXTURE_FOLDER, serializeVectors, VECTOR_FILES } from './vector-file.js';
import { jsonVectors } from './vectors-json.js';
import { promotedVectors } from './vectors-promoted.js';
import { appReleaseVectors, runOnceVectors, switchVectors } from './vectors-channel-documents.js';
import { endToEndVectors } from './vectors-end-to-end.js';
import { packageVectors } from './vectors-packages.js';
import { accessVectors } from './vectors-access.js';
import { receiptVectors } from './vectors-receipts.js';
import { answered, appVersionVectors, freshnessVectors, hashVectors, resolveVectors, rolloutVectors, whitelistVectors, type DraftFile } from './vectors-rules.js';
import { rootVectors } from './vectors-root.js';
import { canonicalVectors, encryptionVectors, FULL_SIZE_PLAINTEXT, seal, signatureVectors } from './vectors-trust.js';

export const CONFORMANCE_DIR = dirname(fileURLToPath(import.meta.url));

/** Every vector file and fixture, by its path relative to test/conformance/. */
export async function buildVectors(): Promise<Map<string, Buffer>> {
  const output = new Map<string, Buffer>();
  const fixtures = new Map<string, Buffer>();
  const fixture = (name: string, bytes: Buffer) => {
    fixtures.set(fixturePath(name), bytes);
    return fixturePath(name);
  };
  const fullSize = fixture('exact-64k.upe', await seal(FULL_SIZE_PLAINTEXT, Buffer.from(Array.from({ length: 32 }, (_, i) => i)), 64 * 1024));
  const drafts: DraftFile[] = [
    hashVectors(),
    rolloutVectors(),
    whitelistVectors(),
    appVersionVectors(),
    resolveVectors(),
    freshnessVectors(),
    jsonVectors(),
    canonicalVectors(),
    signatureVectors(),
    rootVectors(),
    await encryptionVectors(fullSize),
    await packageVectors(fixture),
    promotedVectors(),
    endToEndVectors(),
    switchVectors(),
    appReleaseVectors(),
    runOnceVectors(),
    accessVectors(),
    receiptVectors(),
  ];
  // The answers of package and decrypt cases read fixtures: write them where evaluate looks, in a scratch root.
  const scratch = await mkdtemp(join(tmpdir(), 'up-vectors-root-'));
  try {
    for (const [path, bytes] of fixtures) {
      await mkdir(dirname(join(scratch, path)), { recursive: true });
      await writeFile(join(scratch, path), bytes);
    }
    for (const draft of drafts) {
      if (!VECTOR_FILES.includes(draft.name as (typeof VECTOR_FILES)[number])) throw new Error(`${draft.name} is not listed in VECTOR_FILES`);
      output.set(draft.name, serializeVectors(await answered(draft, (file, vector) => evaluate(file, vector, scratch))));
    }
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
  for (const [path, bytes] of fixtures) output.set(path, bytes);
  return output;
}

/** Replaces the checked-in vectors with freshly built ones (stale fixtures are removed). */
async function writeVectors(): Promise<void> {
  const vectors = await buildVectors();
  await rm(join(CONFORMANCE_DIR, FIXTURE_FOLDER), { recursive: true, force: true });
  for (const [path, bytes] of vectors) {
    await mkdir(dirname(join(CONFORMANCE_DIR, path)), { recursive: true });
    await writeFile(join(CONFORMANCE_DIR, path), bytes);
  }
  const total = [...vectors.values()].reduce((sum, bytes) => sum + bytes.length, 0);
  const files = (await readdir(CONFORMANCE_DIR)).filter((name) => name.endsWith('.json')).length;
  process.stdout.write(`wrote ${files} vector files and ${vectors.size - files} fixtures (${total} bytes) to ${CONFORMANCE_DIR}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await writeVectors();
}
