import type { Environment } from '../environment.js';
import { envRefName } from '../env-ref.js';
import { UserError } from '../errors.js';
import { rememberSecret } from '../secrets.js';

/** Hook settings written `env:NAME` are resolved when the hook runs (see ../env-ref.ts). */

export interface ResolvedEnvRefs<T> {
  value: T;
  /** Every value read from the environment: to be scrubbed from anything printed. */
  secrets: string[];
}

/** Variables `value` refers to (at any depth) that are unset or empty. */
export function missingEnvRefs(value: unknown, env: Environment): string[] {
  const missing = new Set<string>();
  visitStrings(value, (text) => {
    const name = envRefName(text);
    if (name && !env[name]) missing.add(name);
    return text;
  });
  return [...missing];
}

/**
 * Replaces every `env:NAME` string (at any depth) with the variable's value.
 * A missing variable is a UserError that names the variable, never a value.
 */
export function resolveEnvRefs<T>(value: T, env: Environment): ResolvedEnvRefs<T> {
  const missing = missingEnvRefs(value, env);
  if (missing.length > 0) {
    const [one, ...more] = missing;
    throw new UserError(
      more.length === 0
        ? `environment variable ${one} is not set (a hook reads it as env:${one}); export it before running, or remove the reference`
        : `environment variables ${missing.join(', ')} are not set (hooks read them as env:NAME); export them before running, or remove the references`,
    );
  }
  const secrets = new Set<string>();
  const resolved = visitStrings(value, (text) => {
    const name = envRefName(text);
    if (!name) return text;
    const secret = env[name] as string;
    secrets.add(secret);
    rememberSecret(secret);
    return secret;
  });
  return { value: resolved as T, secrets: [...secrets] };
}

/** Values shorter than this carry no secret worth hiding and would mangle every message. */
const MIN_SCRUBBED_LENGTH = 4;

/** Replaces each secret (and its URL-encoded form) in `text` with a marker. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let scrubbed = text;
  const forms = secrets.flatMap((secret) => [secret, encodeURIComponent(secret)]);
  // Longest first, so a secret containing another is replaced whole.
  for (const form of [...new Set(forms)].sort((a, b) => b.length - a.length)) {
    if (form.length >= MIN_SCRUBBED_LENGTH) scrubbed = scrubbed.split(form).join('[redacted]');
  }
  return scrubbed;
}

function visitStrings(value: unknown, map: (text: string) => string): unknown {
  if (typeof value === 'string') return map(value);
  if (Array.isArray(value)) return value.map((item) => visitStrings(item, map));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, visitStrings(item, map)]));
  }
  return value;
}

/** Where a command reads `env:NAME` values from: the signing key, and the hooks its events run. */
export interface WriteEnvironmentNeeds {
  signing?: { privateKey: string | string[] };
  hooks: readonly { type: string; name?: string; on: readonly string[] }[];
}

/**
 * Every `env:NAME` a writing command will read — the signing key, and each hook subscribed to
 * one of `events` — checked at once, so a missing variable stops the command before its first
 * write rather than after the release is live (a hook runs after the index write).
 */
export function assertWriteEnvironment(needs: WriteEnvironmentNeeds, events: readonly string[], env: Environment): void {
  const problems: string[] = [];
  const signingKeys = needs.signing ? [needs.signing.privateKey].flat() : [];
  for (const signingVariable of signingKeys.map(envRefName)) {
    if (signingVariable && !env[signingVariable]?.trim()) problems.push(`${signingVariable} (signing.privateKey)`);
  }
  for (const hook of needs.hooks) {
    if (!hook.on.some((event) => events.includes(event))) continue;
    for (const name of missingEnvRefs(hook, env)) problems.push(`${name} (hook '${hook.name ?? hook.type}')`);
  }
  if (problems.length === 0) return;
  throw new UserError(
    `environment variable${problems.length === 1 ? '' : 's'} ${problems.join(', ')} ${problems.length === 1 ? 'is' : 'are'} not set; export ${problems.length === 1 ? 'it' : 'them'}${
      needs.hooks.length ? ' (or pass --no-hooks for a hook)' : ''
    }; nothing was written`,
  );
}
