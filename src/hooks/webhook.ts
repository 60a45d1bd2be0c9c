import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { WebhookHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import type { HookEvent } from '../protocol/release-event.js';
import { maskSecrets, rememberSecret } from '../secrets.js';

export const SIGNATURE_HEADER = 'X-Update-Publish-Signature';
const DEFAULT_TIMEOUT_MS = 10_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 8_000;
/** Headers whose values are credentials even when written literally (env:NAME values are secrets whatever the header). */
const SECRET_HEADER = /auth|cookie|token|key|secret|signature|session|password/i;

/** `sha256=<hex HMAC-SHA256 of the body>`: receivers recompute it to trust the sender. */
export const signBody = (body: string, secret: string) => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

/** Exponential backoff with jitter, so retrying senders do not stampede a recovering receiver. */
export function backoffDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

/** Worth another try: the receiver is overloaded or broken, not rejecting the request. */
const retryableStatus = (status: number) => status >= 500 || status === 429;

function requestHeaders(hook: WebhookHook, event: HookEvent, body: string): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'update-publish',
    'x-update-publish-event': event.event,
    ...hook.headers,
    ...(hook.secret ? { [SIGNATURE_HEADER]: signBody(body, hook.secret) } : {}),
  };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `timed out after ${timeoutMs} ms`;
  const cause = error instanceof Error && error.cause instanceof Error ? `: ${error.cause.message}` : '';
  return `${error instanceof Error ? error.message : String(error)}${cause}`;
}

/** One POST: 'ok' with the status, or why it failed and whether to try again. */
async function postOnce(url: string, headers: Record<string, string>, body: string, timeoutMs: number) {
  try {
    const response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(timeoutMs) });
    // Masked before it is cut: a receiver echoing the request would otherwise show the part of a token before the cut.
    const reply = maskSecrets(await response.text()).slice(0, 200);
    if (response.ok) return { ok: true as const, status: response.status };
    return { ok: false as const, retry: retryableStatus(response.status), reason: `HTTP ${response.status}${reply ? ` ${reply}` : ''}` };
  } catch (error) {
    return { ok: false as const, retry: true, reason: describeFailure(error, timeoutMs) };
  }
}

/** A URL no request can be made to is refused once, not retried (it may come from env: at run time). */
function assertPostable(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error('url is not a valid URL (not retried)');
  }
  if (!['http:', 'https:'].includes(parsed.protocol)) throw new Error(`url must be http:// or https://, not ${parsed.protocol} (not retried)`);
  if (parsed.username || parsed.password) throw new Error('url holds credentials, which fetch refuses to send; put them in "headers" (not retried)');
}

export const runWebhookHook: HookHandler<WebhookHook> = async (hook, event, context) => {
  const body = JSON.stringify(event);
  const timeoutMs = hook.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const tries = `${hook.attempts} ${hook.attempts === 1 ? 'try' : 'tries'}`;
  if (context.dryRun) {
    const extra = Object.keys(hook.headers);
    return (
      `would POST ${hook.url} (application/json, ${Buffer.byteLength(body)} bytes` +
      `${hook.secret ? `, ${SIGNATURE_HEADER} with ${hook.secret}` : ''}` +
      `${extra.length ? `, headers ${extra.join(', ')}` : ''}), timeout ${timeoutMs} ms, up to ${tries}`
    );
  }
  assertPostable(hook.url);
  // Header values (an Authorization token written literally) and the signing secret are secrets wherever a reply echoes them.
  for (const [name, value] of Object.entries(hook.headers)) if (SECRET_HEADER.test(name)) rememberSecret(value);
  rememberSecret(hook.secret);
  const headers = requestHeaders(hook, event, body);
  let reason = '';
  for (let attempt = 1; attempt <= hook.attempts; attempt += 1) {
    if (attempt > 1) await sleep(backoffDelayMs(attempt - 1));
    const result = await postOnce(hook.url, headers, body, timeoutMs);
    if (result.ok) return `HTTP ${result.status}${attempt > 1 ? ` after ${attempt} tries` : ''}`;
    reason = result.reason;
    if (!result.retry) throw new Error(`${reason} (not retried)`);
  }
  throw new Error(`${reason} (gave up after ${tries})`);
};
