/**
 * How long a device gives one read in all (PROTOCOL.md §19.3): a stall
 * timeout and a minimum speed alone let a mirror trickle a 16 MiB index for
 * hours. A document gets a fixed deadline, a package object one scaled by
 * its size (the manifest lists it), counted across resumed requests.
 */
export const DOCUMENT_DEADLINE_MS = 60_000;
/** The slowest average a package download may keep over its whole size, on top of the document deadline. */
export const DEADLINE_BYTES_PER_SECOND = 16 * 1024;

export const objectDeadlineMs = (size: number, documentDeadlineMs = DOCUMENT_DEADLINE_MS, bytesPerSecond = DEADLINE_BYTES_PER_SECOND) =>
  documentDeadlineMs + Math.ceil((size / bytesPerSecond) * 1000);
