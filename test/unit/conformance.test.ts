/**
 * The conformance vectors (test/conformance/) against the TypeScript client:
 * every case gives its expected answer, and the checked-in files are exactly
 * what the generator writes today (a protocol or packer change shows up here
 * first). The Java client runs the same files in test/e2e/java-client.test.ts.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { evaluate } from '../conformance/evaluate.js';
import { buildVectors, CONFORMANCE_DIR } from '../conformance/generate.js';
import { VECTOR_FILES, type VectorFile } from '../conformance/vector-file.js';

const load = async (name: string) => JSON.parse(await readFile(join(CONFORMANCE_DIR, name), 'utf8')) as VectorFile;

describe.each(VECTOR_FILES)('conformance vectors %s: the TypeScript client', (name) => {
  it('gives every expected answer', async () => {
    const file = await load(name);
    expect(file.cases.length).toBeGreaterThan(0);
    for (const vector of file.cases) {
      expect({ case: vector.name, answer: await evaluate(file, vector, CONFORMANCE_DIR) }).toEqual({ case: vector.name, answer: vector.expected });
    }
  });
});

describe('conformance vectors as checked in', () => {
  it('are what `npm run conformance:generate` writes (regenerate after a protocol or packer change, and read the diff)', async () => {
    const built = await buildVectors();
    const onDisk = new Map<string, Buffer>();
    for (const name of VECTOR_FILES) onDisk.set(name, await readFile(join(CONFORMANCE_DIR, name)));
    for (const name of await readdir(join(CONFORMANCE_DIR, 'files'))) onDisk.set(`files/${name}`, await readFile(join(CONFORMANCE_DIR, 'files', name)));
    expect([...onDisk.keys()].sort()).toEqual([...built.keys()].sort());
    for (const [path, bytes] of built) expect(onDisk.get(path)!.equals(bytes), `${path} differs from the generator's output`).toBe(true);
  });

  it('stay small (the whole folder under 1 MB)', async () => {
    const sizeOf = async (dir: string): Promise<number> => {
      let total = 0;
      for (const entry of await readdir(dir, { withFileTypes: true })) {
        total += entry.isDirectory() ? await sizeOf(join(dir, entry.name)) : (await stat(join(dir, entry.name))).size;
      }
      return total;
    };
    expect(await sizeOf(CONFORMANCE_DIR)).toBeLessThan(1024 * 1024);
  });
});
