// Realistic old/new file pairs for the patch scenarios, generated
// deterministically: a tile database (SQLite, 1% of rows updated), model
// weights (64 MB of float32, 5% of the tensors changed), a minified 5 MB
// JavaScript bundle with a function inserted in the middle, and an image
// atlas (raw RGBA) with one region redrawn.
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { prng } from './trees.mjs';

/** Writes `old/` and `new/` under dir, each with the four files (same paths); returns the paths. */
export async function writePatchCorpus(dir, { quick = false } = {}) {
  const scale = quick ? 0.25 : 1;
  await mkdir(join(dir, 'old'), { recursive: true });
  await mkdir(join(dir, 'new'), { recursive: true });
  const pairs = [
    ['tiles.db', ...tileDatabase(join(dir, 'old', 'tiles.db'), join(dir, 'new', 'tiles.db'), scale)],
    ['model.bin', ...modelWeights(Math.round(64 * 1024 * 1024 * scale))],
    ['bundle.min.js', ...jsBundle(Math.round(5e6 * scale))],
    ['atlas.rgba', ...imageAtlas(quick ? 1024 : 2048)],
  ];
  for (const [path, oldBytes, newBytes] of pairs) {
    if (oldBytes) await writeFile(join(dir, 'old', path), oldBytes);
    if (newBytes) await writeFile(join(dir, 'new', path), newBytes);
  }
  return pairs.map(([path]) => path);
}

/** SQLite built with Python's standard library: tiles of JSON-ish features; 1% of rows updated. */
function tileDatabase(oldPath, newPath, scale) {
  const rows = Math.round(40_000 * scale);
  const script = `
import random, sqlite3, shutil, sys
old, new, rows = sys.argv[1], sys.argv[2], int(sys.argv[3])
random.seed(18)
words = ['road','river','park','school','station','tower','bridge','lake','forest','market']
def tile(z, x, y, edition):
    r = random.Random(z * 1000003 + x * 1009 + y + edition * 7919)
    return ('{"z":%d,"x":%d,"y":%d,"features":[' % (z, x, y) + ','.join('{"kind":"%s","id":%d,"geom":[%s]}' % (r.choice(words), r.randrange(10**6), ','.join(str(r.randrange(4096)) for _ in range(12))) for _ in range(r.randrange(2, 8))) + ']}').encode()
db = sqlite3.connect(old)
db.execute('PRAGMA page_size=4096')
db.execute('CREATE TABLE tiles (z INTEGER, x INTEGER, y INTEGER, data BLOB, PRIMARY KEY (z, x, y))')
db.executemany('INSERT INTO tiles VALUES (?,?,?,?)', ((14, i % 200, i // 200, tile(14, i % 200, i // 200, 0)) for i in range(rows)))
db.commit(); db.close()
shutil.copyfile(old, new)
db = sqlite3.connect(new)
for i in random.Random(1).sample(range(rows), rows // 100):
    db.execute('UPDATE tiles SET data=? WHERE z=14 AND x=? AND y=?', (tile(14, i % 200, i // 200, 1), i % 200, i // 200))
db.commit(); db.close()
`;
  execFileSync('python3', ['-c', script, oldPath, newPath, String(rows)]);
  return [null, null];
}

/** float32 weights in 256 tensors; 5% of the tensors fine-tuned (every value nudged). */
function modelWeights(size) {
  const random = prng(64);
  const old = Buffer.alloc(size);
  const values = new Float32Array(old.buffer, old.byteOffset, size / 4);
  for (let i = 0; i < values.length; i++) values[i] = (random() - 0.5) * 0.2;
  const next = Buffer.from(old);
  const nextValues = new Float32Array(next.buffer, next.byteOffset, size / 4);
  const tensors = 256;
  const per = values.length / tensors;
  const chosen = new Set();
  while (chosen.size < Math.round(tensors * 0.05)) chosen.add(Math.floor(random() * tensors));
  for (const tensor of chosen) for (let i = tensor * per; i < (tensor + 1) * per; i++) nextValues[i] = nextValues[i] * 1.01 + (random() - 0.5) * 1e-3;
  return [old, next];
}

/** A minified bundle; the new one has a function inserted in the middle. */
function jsBundle(size) {
  const random = prng(5);
  const names = ['map', 'filter', 'reduce', 'push', 'length', 'value', 'state', 'props', 'render', 'key'];
  const parts = [];
  let length = 0;
  for (let n = 0; length < size; n++) {
    const part = `function ${'f' + n.toString(36)}(a,b){var c=a.${names[Math.floor(random() * 10)]}+${Math.floor(random() * 1e4)};for(var i=0;i<b.length;i++){c+=b[i]*${(random() * 100).toFixed(3)}}return c}`;
    parts.push(part);
    length += part.length;
  }
  const old = parts.join('');
  const middle = old.indexOf('function', old.length >> 1);
  const inserted = 'function inserted(x){return x.map(function(y){return{id:y.id,total:y.items.reduce(function(s,i){return s+i.price*i.qty},0)}}).filter(Boolean)}';
  return [Buffer.from(old), Buffer.from(old.slice(0, middle) + inserted + old.slice(middle))];
}

/** An RGBA atlas of noisy sprites; one 256×256 region redrawn. */
function imageAtlas(side) {
  const random = prng(2048);
  const old = Buffer.alloc(side * side * 4);
  for (let i = 0; i < old.length; i += 4) {
    const shade = Math.floor(random() * 64);
    old[i] = 100 + shade;
    old[i + 1] = 80 + (shade >> 1);
    old[i + 2] = 60;
    old[i + 3] = 255;
  }
  const next = Buffer.from(old);
  for (let y = 512; y < 768; y++) {
    for (let x = 256; x < 512; x++) {
      const i = (y * side + x) * 4;
      next[i] = Math.floor(random() * 256);
      next[i + 1] = Math.floor(random() * 128);
      next[i + 2] = 200;
    }
  }
  return [old, next];
}
