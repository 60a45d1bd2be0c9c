import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isPrecompressed, looksIncompressible } from '../../src/pack/compression.js';

describe('isPrecompressed', () => {
  it.each(['a.png', 'photos/b.JPG', 'c.jpeg', 'd.webp', 'e.mp3', 'f.mp4', 'g.zip', 'h.gz', 'fonts/i.woff2', 'j.ktx2'])(
    'stores %s as is',
    (path) => expect(isPrecompressed(path)).toBe(true),
  );

  it.each(['a.txt', 'b.json', 'c.svg', 'd.html', 'png', 'dir.png/readme', 'e.png.txt', 'Makefile', '.gz-config'])(
    'deflates %s',
    (path) => expect(isPrecompressed(path)).toBe(false),
  );
});

describe('looksIncompressible', () => {
  it('recognises random bytes', () => {
    expect(looksIncompressible(randomBytes(64 * 1024))).toBe(true);
  });

  it('sees that text, JSON and repetitive binary compress', () => {
    expect(looksIncompressible(Buffer.from('the quick brown fox jumps over the lazy dog\n'.repeat(2000)))).toBe(false);
    expect(looksIncompressible(Buffer.from(JSON.stringify(Array.from({ length: 2000 }, (_, i) => ({ id: i, hp: i % 7 })))))).toBe(false);
    expect(looksIncompressible(new Uint8Array(64 * 1024).map((_, i) => i % 16))).toBe(false);
  });

  it('does not judge from a sample too small to tell', () => {
    expect(looksIncompressible(randomBytes(1000))).toBe(false);
  });
});
