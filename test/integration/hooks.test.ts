import { createHmac } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { UserError } from '../../src/errors.js';
import { hooksConfigSchema } from '../../src/config/hook-schema.js';
import { resolveEnvRefs, scrubSecrets } from '../../src/config/env-refs.js';
import { failedRequired, hooksExitCode, runHooks, type HookResult } from '../../src/hooks/run-hooks.js';
import { backoffDelayMs } from '../../src/hooks/webhook.js';
import { releaseEvent } from '../helpers/release-event.js';

/** Parses hooks as the config loader would (defaults applied) and runs them, keeping the log. */
async function run(hooks: unknown[], options: { dryRun?: boolean; only?: string; events?: ReturnType<typeof releaseEvent>[] } = {}) {
  const lines: string[] = [];
  const results = await runHooks(hooksConfigSchema.parse(hooks), options.events ?? [releaseEvent()], {
    dryRun: options.dryRun ?? false,
    only: options.only,
    log: (line) => lines.push(line),
    env: process.env,
    cwd: process.cwd(),
  });
  return { results, lines };
}

/** Alive and not a zombie (an orphan's exit status may go unreaped in a container). */
function isRunning(pid: number): boolean {
  try {
    if (existsSync('/proc/self/stat')) return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const only = (results: HookResult[]) => {
  expect(results).toHaveLength(1);
  return results[0];
};

describe('hooks config', () => {
  it('applies defaults: every event, required, name = type', () => {
    const [hook] = hooksConfigSchema.parse([{ type: 'command', run: 'true' }]);
    expect(hook).toMatchObject({
      type: 'command',
      required: true,
      on: ['publish', 'rollout', 'halt', 'resume', 'rollback', 'promote', 'edit', 'switch', 'app-release'],
    });
  });

  it('rejects unknown fields, a literal webhook secret, duplicate names and an sns hook without a target', () => {
    const problems = (hooks: unknown[]) => hooksConfigSchema.safeParse(hooks).error?.issues.map((issue) => issue.path.join('.')) ?? [];
    expect(problems([{ type: 'command', run: 'true', shell: 'bash' }])).toEqual(['0']);
    expect(problems([{ type: 'webhook', url: 'https://example.com/h', secret: 'hunter22' }])).toEqual(['0.secret']);
    expect(problems([{ type: 'command', run: 'a' }, { type: 'command', run: 'b' }])).toEqual(['1.name']);
    expect(problems([{ type: 'sns' }])).toHaveLength(1);
    expect(problems([{ type: 'sns', topicArn: 'env:TOPIC' }])).toEqual([]);
    expect(problems([{ type: 'pager', url: 'x' }])).toEqual(['0.type']);
  });
});

describe('env:NAME references', () => {
  it('resolves at any depth and reports the values as secrets', () => {
    const env = { HOOK_TOKEN: 'tok-123456', HOOK_URL: 'https://example.com/x' };
    const { value, secrets } = resolveEnvRefs({ url: 'env:HOOK_URL', headers: { Authorization: 'env:HOOK_TOKEN' }, tries: 3 }, env);
    expect(value).toEqual({ url: 'https://example.com/x', headers: { Authorization: 'tok-123456' }, tries: 3 });
    expect(secrets.sort()).toEqual(['https://example.com/x', 'tok-123456']);
  });

  it('names a missing variable, never a value', () => {
    const attempt = () => resolveEnvRefs({ a: 'env:SET_ONE', b: 'env:MISSING_ONE' }, { SET_ONE: 'value-of-set-one' });
    expect(attempt).toThrow(UserError);
    expect(attempt).toThrow(/MISSING_ONE is not set/);
    expect(attempt).not.toThrow(/value-of-set-one/);
  });

  it('scrubs secrets, URL-encoded forms included', () => {
    expect(scrubSecrets('got p@ss word and p%40ss%20word', ['p@ss word'])).toBe('got [redacted] and [redacted]');
  });
});

describe('webhook hook', () => {
  const secret = 'whsec-test-0123456789';
  let server: Server;
  let base = '';
  const requests: { path: string; headers: IncomingMessage['headers']; body: string }[] = [];
  let flakyCalls = 0;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        requests.push({ path: req.url ?? '', headers: req.headers, body });
        if (req.url === '/hang') return; // never answers
        if (req.url === '/flaky' && ++flakyCalls === 1) return void res.writeHead(500).end('try later');
        if (req.url === '/reject') return void res.writeHead(400).end(`bad token ${req.headers.authorization}`);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    process.env.UP_TEST_WEBHOOK_SECRET = secret;
    process.env.UP_TEST_TOKEN = 'Bearer sekrit-token-42';
  });
  afterEach(() => {
    requests.length = 0;
  });
  afterAll(async () => {
    delete process.env.UP_TEST_WEBHOOK_SECRET;
    delete process.env.UP_TEST_TOKEN;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('POSTs the event JSON with a verifiable HMAC signature', async () => {
    const { results } = await run([{ type: 'webhook', url: `${base}/ok`, secret: 'env:UP_TEST_WEBHOOK_SECRET', headers: { 'X-Team': 'mobile' } }]);
    expect(only(results)).toMatchObject({ status: 'ok', detail: 'HTTP 204' });
    expect(requests).toHaveLength(1);
    const [request] = requests;
    expect(JSON.parse(request.body)).toEqual(releaseEvent());
    const expected = `sha256=${createHmac('sha256', secret).update(request.body).digest('hex')}`;
    expect(request.headers['x-update-publish-signature']).toBe(expected);
    expect(request.headers['x-team']).toBe('mobile');
    expect(request.headers['content-type']).toBe('application/json');
  });

  it('retries a 5xx and succeeds', async () => {
    flakyCalls = 0;
    const { results } = await run([{ type: 'webhook', url: `${base}/flaky` }]);
    expect(only(results)).toMatchObject({ status: 'ok', detail: 'HTTP 204 after 2 tries' });
    expect(requests.map((r) => r.path)).toEqual(['/flaky', '/flaky']);
  });

  it('does not retry a 4xx, and scrubs env values from the error', async () => {
    const { results } = await run([{ type: 'webhook', url: `${base}/reject`, headers: { Authorization: 'env:UP_TEST_TOKEN' } }]);
    const result = only(results);
    expect(result.status).toBe('failed');
    expect(result.error).toContain('HTTP 400 bad token [redacted]');
    expect(result.error).not.toContain('sekrit-token-42');
    expect(requests).toHaveLength(1);
  });

  it('times out a hanging receiver, trying as often as configured', async () => {
    const { results } = await run([{ type: 'webhook', url: `${base}/hang`, timeoutMs: 200, attempts: 2 }]);
    expect(only(results)).toMatchObject({ status: 'failed', error: 'timed out after 200 ms (gave up after 2 tries)' });
    expect(requests).toHaveLength(2);
  });

  it('refuses at once, without retries, a URL no request can be made to', async () => {
    process.env.UP_TEST_URL = `http://deploy:pa55word@${base.slice('http://'.length)}/ok`;
    try {
      const { results } = await run([{ type: 'webhook', url: 'env:UP_TEST_URL', attempts: 3 }]);
      expect(only(results)).toMatchObject({
        status: 'failed',
        error: 'url holds credentials, which fetch refuses to send; put them in "headers" (not retried)',
      });
      expect(requests).toHaveLength(0);
    } finally {
      delete process.env.UP_TEST_URL;
    }
  });

  it('fails without a request when a referenced variable is missing', async () => {
    const { results } = await run([{ type: 'webhook', url: `${base}/ok`, secret: 'env:UP_TEST_NOT_SET' }]);
    expect(only(results)).toMatchObject({ status: 'failed' });
    expect(results[0].error).toMatch(/UP_TEST_NOT_SET is not set/);
    expect(requests).toHaveLength(0);
  });

  it('dry run describes the call (secret by reference) and sends nothing', async () => {
    const { results } = await run([{ type: 'webhook', url: `${base}/ok`, secret: 'env:UP_TEST_WEBHOOK_SECRET' }], { dryRun: true });
    const result = only(results);
    expect(result.status).toBe('skipped');
    expect(result.detail).toContain(`would POST ${base}/ok`);
    expect(result.detail).toContain('X-Update-Publish-Signature with env:UP_TEST_WEBHOOK_SECRET');
    expect(result.detail).not.toContain(secret);
    expect(requests).toHaveLength(0);
  });

  it('backs off exponentially, with jitter, up to a cap', () => {
    expect([1, 2, 3].map((attempt) => backoffDelayMs(attempt, () => 0))).toEqual([250, 500, 1000]);
    expect(backoffDelayMs(2, () => 1)).toBe(1000);
    expect(backoffDelayMs(20, () => 1)).toBe(8000);
  });
});

describe('command hook', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'up-hooks-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('passes UP_* variables and the event JSON on stdin, and shows output under the hook name', async () => {
    const hook = { type: 'command', name: 'notify', run: 'echo "$UP_EVENT $UP_PACKAGE $UP_VERSION $UP_CHANNEL $UP_ROLLOUT $UP_MANDATORY"; cat; echo; echo oops >&2' };
    const { results, lines } = await run([hook]);
    expect(only(results)).toMatchObject({ name: 'notify', status: 'ok' });
    expect(lines).toContain('  notify │ publish maps 1.2.0 production 10 false');
    expect(lines).toContain('  notify │ oops');
    const stdinLine = lines.find((line) => line.startsWith('  notify │ {'));
    expect(JSON.parse(stdinLine!.slice('  notify │ '.length))).toEqual(releaseEvent());
  });

  it('keeps its first and last lines of a flood of output (memory and the terminal stay bounded)', async () => {
    const { results, lines } = await run([{ type: 'command', name: 'loud', run: 'seq 300000; exit 1' }]);
    expect(only(results)).toMatchObject({ status: 'failed', error: 'exited with code 1' });
    const shown = lines.filter((line) => line.startsWith('  loud │ '));
    expect(shown).toHaveLength(201);
    expect(shown.slice(0, 2)).toEqual(['  loud │ 1', '  loud │ 2']);
    expect(shown[100]).toBe('  loud │ … 299800 lines not shown …');
    expect(shown.at(-1)).toBe('  loud │ 300000');
  });

  it('cuts a line too long to hold (one of 600 MB crashed the CLI with RangeError)', { timeout: 120_000 }, async () => {
    const { results, lines } = await run([{ type: 'command', name: 'wide', run: "head -c 600000000 /dev/zero | tr '\\0' x; echo; echo after", timeoutMs: 110_000 }]);
    expect(only(results)).toMatchObject({ status: 'ok' });
    const shown = lines.filter((line) => line.startsWith('  wide │ '));
    expect(shown).toEqual([`  wide │ ${'x'.repeat(4096)}… (${600_000_000 - 4096} more bytes cut)`, '  wide │ after']);
  });

  it('reports a non-zero exit as failed', async () => {
    const { results } = await run([{ type: 'command', run: 'exit 3' }]);
    expect(only(results)).toMatchObject({ status: 'failed', error: 'exited with code 3' });
  });

  it('kills the whole process group on timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const { results } = await run([{ type: 'command', run: `sleep 30 & echo $! > ${pidFile}; wait`, timeoutMs: 300 }]);
    expect(only(results)).toMatchObject({ status: 'failed', error: 'timed out after 300 ms; its process group was killed' });
    const pid = Number(readFileSync(pidFile, 'utf8'));
    // The background sleep is gone too. A killed process closes its pipes (ending the hook)
    // a moment before the kernel marks it exited, so give the kernel a moment; not 30 s.
    await vi.waitFor(() => expect(isRunning(pid)).toBe(false), { timeout: 3000, interval: 20 });
  });

  it('dry run runs nothing', async () => {
    const marker = join(dir, 'ran');
    const { results } = await run([{ type: 'command', run: `touch ${marker}` }], { dryRun: true });
    expect(only(results)).toMatchObject({ status: 'skipped', detail: expect.stringContaining(`would run \`touch ${marker}\``) });
    expect(existsSync(marker)).toBe(false);
  });
});

describe('runHooks', () => {
  const events = [releaseEvent(), releaseEvent({ event: 'halt', package: 'levels', version: '3.0.0' })];

  it('runs hooks in order, each for the events it is on, and a failure does not stop the next', async () => {
    const hooks = [
      { type: 'command', name: 'first', run: 'exit 1', on: ['publish'] },
      { type: 'command', name: 'second', run: 'true', required: false },
      { type: 'command', name: 'third', run: 'exit 1', required: false, on: ['halt'] },
    ];
    const { results, lines } = await run(hooks, { events });
    expect(results.map((r) => [r.name, r.event, 'package' in r && r.package, r.status])).toEqual([
      ['first', 'publish', 'maps', 'failed'],
      ['second', 'publish', 'maps', 'ok'],
      ['second', 'halt', 'levels', 'ok'],
      ['third', 'halt', 'levels', 'failed'],
    ]);
    expect(failedRequired(results).map((r) => r.name)).toEqual(['first']);
    expect(hooksExitCode(results)).toBe(4);
    expect(hooksExitCode(results.filter((r) => r.name !== 'first'))).toBe(0);
    expect(lines).toContain('✖ third · halt levels@3.0.0 — failed (optional): exited with code 1');
  });

  it('--only runs hooks of one type or name, and an unknown one is a usage error', async () => {
    const hooks = [
      { type: 'command', name: 'a', run: 'true' },
      { type: 'webhook', url: 'http://127.0.0.1:9/never' },
    ];
    const { results } = await run(hooks, { only: 'command' });
    expect(results.map((r) => r.name)).toEqual(['a']);
    await expect(run(hooks, { only: 'sns' })).rejects.toThrow(/no hook matches --only sns; configured hooks: a, webhook/);
  });

  it('dry run flags a missing variable without failing', async () => {
    const { results } = await run([{ type: 'webhook', url: 'env:UP_TEST_UNSET_URL' }], { dryRun: true });
    expect(only(results)).toMatchObject({ status: 'skipped' });
    expect(results[0].detail).toContain('would POST env:UP_TEST_UNSET_URL');
    expect(results[0].detail).toContain('not set: UP_TEST_UNSET_URL');
  });
});
