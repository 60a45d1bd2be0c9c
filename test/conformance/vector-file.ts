/**
 * The shape every conformance vector file shares (test/conformance/README.md):
 * `{ protocol, description, …shared inputs, cases: [ { name, check, …inputs, expected } ] }`.
 * A client evaluates each case's inputs as its `check` says and must produce
 * exactly `expected` (compared as JSON values).
 */
export interface VectorInputs {
  name: string;
  check: string;
  [input: string]: unknown;
}

export type VectorCase = VectorInputs & { expected: unknown };

export interface VectorFile {
  /** The protocol version the vectors describe (PROTOCOL.md). */
  protocol: number;
  description: string;
  cases: VectorCase[];
  [shared: string]: unknown;
}

export const PROTOCOL_VERSION = 1;

/** Every vector file, in the order clients should run them (simplest first). */
export const VECTOR_FILES = [
  'hash.json',
  'rollout.json',
  'whitelist.json',
  'app-version.json',
  'resolve.json',
  'freshness.json',
  'json.json',
  'canonical-json.json',
  'signatures.json',
  'root.json',
  'encryption.json',
  'packages.json',
  'promoted.json',
  'end-to-end.json',
  'switches.json',
  'app-releases.json',
  'run-once.json',
  'private-access.json',
  'receipts.json',
] as const;

/** Binary fixtures the vector files name, relative to test/conformance/. */
export const FIXTURE_FOLDER = 'files';

export const vectorFile = (description: string, cases: VectorCase[], shared: Record<string, unknown> = {}): VectorFile => ({
  protocol: PROTOCOL_VERSION,
  description,
  ...shared,
  cases,
});

/** Vector files are read by people too: one case per block, stable key order. */
export const serializeVectors = (file: VectorFile) => Buffer.from(`${JSON.stringify(file, null, 2)}\n`);
