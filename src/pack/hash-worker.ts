import { hashFilesSync, type BytesCounter } from '../hash.js';

/** A worker of the hashing pool (see hash-files.ts): hashes a batch of files off the main thread, counting bytes as it reads. */
export default ({ paths, bytesRead }: { paths: string[]; bytesRead: BytesCounter }): string[] => hashFilesSync(paths, bytesRead);
