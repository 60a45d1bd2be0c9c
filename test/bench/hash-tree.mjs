// Child process of the hashing scenario: scan and hash a tree the way publish
// does, with no hash cache. usage: node hash-tree.mjs DIR
import { hashFiles } from '../../dist/pack/hash-files.js';
import { scanPackage } from '../../dist/pack/scan.js';

const files = await scanPackage('bench', { dir: process.argv[2], include: ['**/*'], exclude: [] }, process.cwd());
const hashed = await hashFiles(files, undefined);
process.stdout.write(`${JSON.stringify({ files: hashed.length, bytes: hashed.reduce((sum, file) => sum + file.size, 0) })}\n`);
