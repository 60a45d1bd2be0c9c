// Deterministic asset trees for the benchmarks: the same seed gives the same
// paths, bytes and mtimes on every machine, so runs are comparable.
import { createCipheriv, createHash } from 'node:crypto';
import { mkdir, open, utimes, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** An old, fixed mtime: a checkout, not files the hash cache would treat as just written. */
export const FIXED_MTIME = new Date('2024-01-01T00:00:00Z');

/** Large files are written (and changed) in slices of this size, so memory stays flat. */
const SLICE = 16 * 1024 * 1024;

/** mulberry32: a small seeded PRNG returning floats in [0, 1). */
export function prng(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Incompressible bytes: an AES-256-CTR keystream keyed by the label, fast and reproducible. */
export function randomBytesFor(label, size) {
  const key = createHash('sha256').update(label).digest();
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(size));
}

const SYLLABLES = ['ka', 'lo', 'mi', 're', 'tu', 'sa', 'ne', 'vo', 'zi', 'pa', 'do', 'el', 'an', 'ur', 'is', 'qu'];

/** Ten words: text far more repetitive than real copy, which deflate packs hard (and slowly). */
const VOCABULARY = ['alpha', 'bravo', 'tile', 'road', 'north', 'south', 'level', 'enemy', 'score', 'map'];

/** Very repetitive text: words drawn from VOCABULARY alone. */
function repetitiveTextFor(random, size) {
  const parts = [];
  let length = 0;
  while (length < size) {
    const word = `${VOCABULARY[Math.floor(random() * VOCABULARY.length)]}${random() < 0.1 ? '\n' : ' '}`;
    parts.push(word);
    length += word.length;
  }
  return Buffer.from(parts.join('').slice(0, size));
}

/** Text that compresses like real assets (source, copy, JSON): words from a small vocabulary. */
function textFor(random, size, json) {
  const word = () => {
    let text = '';
    for (let n = 1 + Math.floor(random() * 3); n >= 0; n--) text += SYLLABLES[Math.floor(random() * SYLLABLES.length)];
    return text;
  };
  const parts = [];
  let length = 0;
  while (length < size) {
    const part = json
      ? `  "${word()}_${Math.floor(random() * 1000)}": { "name": "${word()} ${word()}", "value": ${Math.floor(random() * 100000)} },\n`
      : `${word()} ${word()} ${word()} ${word()} ${word()}.\n`;
    parts.push(part);
    length += part.length;
  }
  const body = parts.join('').slice(0, size);
  return Buffer.from(json ? `{\n${body}\n}\n` : body);
}

const TEXT_EXTENSIONS = ['json', 'txt', 'js', 'css'];
const BINARY_EXTENSIONS = ['png', 'jpg', 'bin', 'dat'];

/**
 * The plan of a tree (paths, kinds, sizes), without writing it.
 * `files` files totalling ~`totalBytes`, one of them `largeBytes` (0: none);
 * 60% text, 40% incompressible binaries, sizes log-uniform.
 */
export function planTree({ files, totalBytes, largeBytes = 0, seed = 1, flavor = 'assets' }) {
  const random = prng(seed);
  const entries = [];
  const smallCount = largeBytes > 0 ? files - 1 : files;
  for (let i = 0; i < smallCount; i++) {
    const binary = random() < 0.4;
    // 'repetitive': ten-word text and incompressible .png, the second tree of the packing targets.
    const extensions = flavor === 'repetitive' ? [binary ? 'png' : 'txt'] : binary ? BINARY_EXTENSIONS : TEXT_EXTENSIONS;
    const extension = extensions[Math.floor(random() * extensions.length)];
    const dir = `d${String(Math.floor(i / 400)).padStart(2, '0')}/s${String(Math.floor(i / 40) % 10)}`;
    // Binaries are bigger than text, as images are bigger than JSON.
    const weight = Math.exp(random() * Math.log(64)) * (binary ? 4 : 1);
    entries.push({ path: `${dir}/f${String(i).padStart(5, '0')}.${extension}`, binary, weight });
  }
  const smallBytes = totalBytes - largeBytes;
  const totalWeight = entries.reduce((sum, entry) => sum + entry.weight, 0);
  for (const entry of entries) entry.size = Math.max(16, Math.round((entry.weight / totalWeight) * smallBytes));
  if (largeBytes > 0) entries.push({ path: 'models/large.bin', binary: true, size: largeBytes });
  return entries.map(({ path, binary, size }) => ({ path, binary, size, ...(flavor === 'repetitive' && !binary && { repetitive: true }) }));
}

/** The bytes of one entry; `generation` > 0 gives changed content of the same kind and size. */
function contentOf(entry, seed, generation) {
  const label = `${seed}:${generation}:${entry.path}`;
  if (entry.binary) return randomBytesFor(label, entry.size);
  const labelSeed = createHash('sha256').update(label).digest().readUInt32LE(0);
  if (entry.repetitive) return repetitiveTextFor(prng(labelSeed), entry.size);
  return textFor(prng(labelSeed), entry.size, entry.path.endsWith('.json'));
}

/** Writes every entry of the plan under root (large files in 16 MiB slices, so memory stays flat). */
export async function writeTree(root, plan, seed = 1) {
  for (const entry of plan) await writeEntry(root, entry, seed, 0);
  return { files: plan.length, bytes: plan.reduce((sum, entry) => sum + entry.size, 0) };
}

async function writeEntry(root, entry, seed, generation, mtime = FIXED_MTIME) {
  const path = join(root, entry.path);
  await mkdir(dirname(path), { recursive: true });
  if (entry.binary && entry.size > SLICE) {
    const handle = await open(path, 'w');
    try {
      for (let offset = 0; offset < entry.size; offset += SLICE) {
        const sliceEntry = { ...entry, path: `${entry.path}#${offset}`, size: Math.min(SLICE, entry.size - offset) };
        await handle.write(contentOf(sliceEntry, seed, generation));
      }
    } finally {
      await handle.close();
    }
  } else {
    await writeFile(path, contentOf(entry, seed, generation));
  }
  await utimes(path, mtime, mtime);
}

/**
 * Rewrites `share` of the small files (chosen by seed) with new content of the
 * same kind and size, and a new mtime; returns the changed paths.
 */
export async function changeFiles(root, plan, share, seed = 1, generation = 1) {
  const random = prng(seed * 7919 + generation);
  const candidates = plan.filter((entry) => entry.size <= SLICE);
  const count = Math.max(1, Math.round(plan.length * share));
  const chosen = new Set();
  while (chosen.size < Math.min(count, candidates.length)) chosen.add(candidates[Math.floor(random() * candidates.length)]);
  const mtime = new Date(FIXED_MTIME.getTime() + generation * 86_400_000);
  for (const entry of chosen) await writeEntry(root, entry, seed, generation, mtime);
  return [...chosen].map((entry) => entry.path).sort();
}
