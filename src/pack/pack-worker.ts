import { packSmallEntries, type SmallEntry } from './entry-batch.js';

/** A worker of the packing pool (see zip.ts): packs a batch of small entries off the main thread. */
export default (entries: SmallEntry[]) => packSmallEntries(entries);
