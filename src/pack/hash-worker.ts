import { hashFilesSync } from '../hash.js';

/** A worker of the hashing pool (see hash-files.ts): hashes a batch of files off the main thread. */
export default (paths: string[]): string[] => hashFilesSync(paths);
