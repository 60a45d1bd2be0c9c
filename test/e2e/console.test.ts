/**
 * `update-publish console` in a real browser: Debian's chromium driven by
 * playwright-core (no browser download), axe-core for accessibility. The
 * console runs as the built binary over a folder store; every change the
 * page makes is checked with the CLI (status, resolve, history).
 * Screenshots land in test-artifacts/console/ (not committed).
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, REPO_ROOT, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import { firstJsonDocument, spawnCli, type RunningCli } from '../helpers/spawn-cli.js';
import { CHROMIUM } from '../helpers/chromium.js';

const ARTIFACTS = join(REPO_ROOT, 'test-artifacts', 'console');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

interface ConsoleProcess {
  url: string;
  origin: string;
  token: string;
  running: RunningCli;
}

async function startConsole(project: Project, args: string[] = []): Promise<ConsoleProcess> {
  const running = spawnCli(['console', '--json', '--no-open', '--port', '0', ...args], { cwd: project.dir });
  const { url } = await firstJsonDocument<{ url: string }>(running, 'console');
  const parsed = new URL(url);
  return { url, origin: parsed.origin, token: parsed.searchParams.get('token')!, running };
}

let browser: Browser;
const consoles: ConsoleProcess[] = [];

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

afterAll(async () => {
  await browser?.close();
  for (const running of consoles) {
    running.running.child.kill('SIGINT');
    await running.running.done;
  }
  await removeProjects();
});

async function publishedProject(): Promise<Project> {
  const project = await makeProject({ packages: { maps: { 'a.txt': 'alpha\n' }, levels: { 'l1.json': '{"level":1}' } } });
  succeeded(await project.run(['publish', '--yes', '--json', '--rollout', '10']));
  return project;
}

async function open(project: Project, args: string[] = []): Promise<{ page: Page; console: ConsoleProcess }> {
  const running = await startConsole(project, args);
  consoles.push(running);
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(running.url);
  expect(errors).toEqual([]);
  return { page, console: running };
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });

describe('update-publish console', () => {
  it('prints its URL as one JSON document and shows what status --json shows', async () => {
    const project = await publishedProject();
    succeeded(await project.run(['halt', 'levels', '--yes', '--json']));
    const { page, console: running } = await open(project);
    expect(running.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/);
    // The token left the address bar for the cookie.
    expect(page.url()).toBe(`${running.origin}/`);
    await shot(page, 'overview');
    const status = succeeded(await project.run(['status', '--json']));
    for (const channel of status.channels as Array<{ channel: string; packages: Array<{ id: string; releases: Array<{ version: string; rollout: number; state: string }> }> }>) {
      for (const pkg of channel.packages) {
        const row = page.locator(`table[data-channel="${channel.channel}"] tr[data-package="${pkg.id}"]`);
        const served = pkg.releases[0];
        await expect.poll(() => row.locator('td.version').innerText()).toBe(served.version);
        expect(await row.locator('td.rollout').innerText()).toContain(`${served.rollout}%`);
        expect(await row.locator('td.serving').innerText()).toBe(served.state === 'halted' ? 'halted' : `rolling out ${served.rollout}%`);
      }
    }
    // The same through the API, for scripts.
    const api = (await page.evaluate(async () => (await fetch('/api/overview')).json())) as { channels: Array<{ packages: Array<{ id: string; served: { version: string; state: string } }> }> };
    expect(api.channels[0].packages.map((item) => [item.id, item.served.version, item.served.state])).toEqual([
      ['levels', '1.0.0', 'halted'],
      ['maps', '1.0.0', 'rolling out'],
    ]);
  });

  it('halts a release from the page: dry run shown, confirmed, devices get nothing, history names the console', async () => {
    const project = await publishedProject();
    const deviceArgs = ['resolve', '--package', 'maps', '--json', '--platform', 'ios', '--app-version', '1.0.0'];
    // A device inside the 10 % rollout: the one resolve serves before the halt.
    let device = '';
    for (let id = 0; id < 200 && !device; id++) {
      if (succeeded(await project.run([...deviceArgs, '--device-id', `d${id}`])).update) device = `d${id}`;
    }
    expect(device).not.toBe('');
    const { page } = await open(project);
    await page.getByRole('button', { name: 'Halt maps 1.0.0 on production' }).click();
    const dialog = page.locator('#confirm');
    await expect.poll(() => dialog.locator('#confirm-summary').innerText()).toContain('active, rollout 10% → halted, rollout 10%');
    await shot(page, 'halt-dialog');
    // Nothing changed yet: the dialog showed a dry run.
    expect(succeeded(await project.run([...deviceArgs, '--device-id', device])).update).toBe(true);
    await dialog.getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('tr[data-package="maps"] td.serving').innerText(), { timeout: 10_000 }).toBe('halted');
    expect(succeeded(await project.run([...deviceArgs, '--device-id', device])).update).toBe(false);
    const history = succeeded(await project.run(['history', 'maps', '--json']));
    expect(history.entries[0]).toMatchObject({ action: 'halt', actor: expect.stringMatching(/^console:/) });
  });

  it('raises a rollout from the overview: asks the percentage, previews, confirms', async () => {
    const project = await publishedProject();
    const { page } = await open(project);
    await page.getByRole('button', { name: 'Rollout maps 1.0.0 on production' }).click();
    const input = page.getByLabel('Rollout percentage');
    expect(await input.inputValue()).toBe('10');
    await input.fill('40');
    await page.locator('#confirm').getByRole('button', { name: 'Preview' }).click();
    await expect.poll(() => page.locator('#confirm-summary').innerText()).toContain('rollout 10% → active, rollout 40%');
    await page.locator('#confirm').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('tr[data-package="maps"] td.serving').innerText(), { timeout: 10_000 }).toBe('rolling out 40%');
    const status = succeeded(await project.run(['status', '--channel', 'production', '--json']));
    expect(status.channels[0].packages.find((pkg: { id: string }) => pkg.id === 'maps').releases[0].rollout).toBe(40);
  });

  it('follows a change the CLI makes while the page is open', async () => {
    const project = await publishedProject();
    const { page } = await open(project);
    succeeded(await project.run(['rollout', 'maps', '55', '--yes', '--json']));
    await expect.poll(() => page.locator('tr[data-package="maps"] td.serving').innerText(), { timeout: 10_000 }).toBe('rolling out 55%');
  });

  it('answers 409 when the channel changed since the page loaded it, and says so', async () => {
    const project = await publishedProject();
    const { page } = await open(project);
    await page.getByRole('button', { name: 'Halt maps 1.0.0 on production' }).click();
    await expect.poll(() => page.locator('#confirm-summary').innerText()).toContain('halted');
    // Someone else changes the channel while the dialog is open.
    succeeded(await project.run(['rollout', 'levels', '20', '--yes', '--json']));
    await page.locator('#confirm').getByRole('button', { name: 'Confirm' }).click();
    await expect.poll(() => page.locator('#confirm-error').innerText()).toMatch(/changed since this page loaded it.*reload/);
    expect(await page.locator('#confirm-ok').innerText()).toBe('Reload');
    await shot(page, 'conflict');
    // Nothing was halted.
    const status = succeeded(await project.run(['status', '--json']));
    expect(status.channels[0].packages.find((pkg: { id: string }) => pkg.id === 'maps').releases[0].state).toBe('active');
  });

  it('refuses without the token (401), from a foreign origin (403), and every write when read-only (403, no buttons)', async () => {
    const project = await publishedProject();
    const { page, console: running } = await open(project, ['--read-only']);
    expect(await fetch(`${running.origin}/`).then((response) => response.status)).toBe(401);
    expect(await fetch(`${running.origin}/api/overview`, { headers: { 'X-Update-Publish-Token': 'wrong' } }).then((response) => response.status)).toBe(401);
    expect(await fetch(`${running.origin}/api/overview`, { headers: { 'X-Update-Publish-Token': running.token } }).then((response) => response.status)).toBe(200);
    expect(await page.locator('button.action, form.action').count()).toBe(0);
    const write = await fetch(`${running.origin}/api/halt`, {
      method: 'POST',
      headers: { 'X-Update-Publish-Token': running.token, 'Content-Type': 'application/json' },
      body: JSON.stringify({ channel: 'production', package: 'maps' }),
    });
    expect(write.status).toBe(403);

    const writable = await startConsole(project);
    consoles.push(writable);
    const foreign = await fetch(`${writable.origin}/api/halt`, {
      method: 'POST',
      headers: { 'X-Update-Publish-Token': writable.token, 'Content-Type': 'application/json', Origin: 'http://evil.example' },
      body: JSON.stringify({ channel: 'production', package: 'maps' }),
    });
    expect(foreign.status).toBe(403);
    expect(await foreign.json()).toEqual({ error: expect.stringContaining('http://evil.example') });
    const status = succeeded(await project.run(['status', '--json']));
    expect(status.channels[0].packages.map((pkg: { releases: Array<{ state: string }> }) => pkg.releases[0].state)).toEqual(['active', 'active']);
  });

  it('has no serious or critical accessibility violations on any page (axe-core)', async () => {
    const project = await publishedProject();
    succeeded(await project.run(['switch', 'set', 'newCheckout', 'true', '--yes', '--json']));
    const running = await startConsole(project);
    consoles.push(running);
    // axe is injected as a script: this context lets it past the CSP the console (rightly) sends.
    const context = await browser.newContext({ bypassCSP: true });
    const page = await context.newPage();
    await page.goto(running.url);
    const pages = ['/', '/channels/production', '/channels/production/packages/maps/releases/1.0.0', '/channels/production/history', '/channels/production/switches', '/channels/production/app-releases', '/whitelists', '/health'];
    const found: string[] = [];
    for (const path of pages) {
      await page.goto(`${running.origin}${path}`);
      await page.addScriptTag({ content: AXE_SOURCE });
      const { violations, passed } = await page.evaluate(async () => {
        type Rule = { id: string; impact: string; nodes: unknown[] };
        const result = await (globalThis as unknown as { axe: { run: () => Promise<{ violations: Rule[]; passes: Rule[] }> } }).axe.run();
        return {
          passed: result.passes.length,
          violations: result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical').map((violation) => `${violation.id} (${violation.nodes.length})`),
        };
      });
      // axe really checked the page (a script that never ran would report no violations too).
      expect(passed).toBeGreaterThan(10);
      found.push(...violations.map((violation) => `${path}: ${violation}`));
      await page.screenshot({ path: join(ARTIFACTS, `axe${path.replace(/\//g, '_')}.png`), fullPage: true });
    }
    expect(found).toEqual([]);
    await context.close();
  });

  it("advances one stage by the rollout policy's decision on device receipts (dry run first)", async () => {
    const policy = { stages: [10, 50, 100], bake: '1m', minLaunches: 50, maxFailurePercent: 5, haltFailurePercent: 20, minFailures: 5 };
    const project = await makeProject({
      packages: { maps: { 'a.txt': 'alpha\n' } },
      config: { receipts: { url: 'r/v1', source: 'logs.ndjson' }, rolloutPolicy: policy },
    });
    succeeded(await project.run(['publish', '--yes', '--json', '--rollout', '10']));
    const index = await project.readStoreJson('channels/production/index.json');
    // 300 devices launched it without a failure, well past the one-minute bake.
    const at = new Date(Date.parse(index.updatedAt) + 1_000).toISOString();
    const lines = Array.from({ length: 300 }, (_, i) => JSON.stringify({ at, query: `e=launch_ok&ch=production&pkg=maps&rel=1.0.0&iid=i${i}&eid=e${i}` }));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(project.dir, 'logs.ndjson'), `${lines.join('\n')}\n`);
    const { page } = await open(project);
    await page.goto(`${consoles.at(-1)!.origin}/channels/production/packages/maps/releases/1.0.0`);
    const advance = page.getByRole('button', { name: 'Advance one stage' });
    if (!(await advance.count())) throw new Error(`no Advance button on the release page:\n${(await page.locator('main').innerText()).slice(0, 1500)}`);
    await advance.click();
    await expect.poll(() => page.locator('#confirm-summary').innerText()).toMatch(/^(advanced: rollout 10% → 50%|held: rollout 10% → 10%)/);
    await shot(page, 'advance-dialog');
    const summary = await page.locator('#confirm-summary').innerText();
    await page.locator('#confirm').getByRole('button', { name: summary.startsWith('held') ? 'Close' : 'Confirm' }).click();
    const history = succeeded(await project.run(['history', 'maps', '--json']));
    if (summary.startsWith('advanced')) {
      await expect.poll(async () => succeeded(await project.run(['status', '--json'])).channels[0].packages[0].releases[0].rollout, { timeout: 10_000 }).toBe(50);
      expect(succeeded(await project.run(['history', 'maps', '--json'])).entries[0]).toMatchObject({ action: 'rollout', actor: expect.stringMatching(/^console:/) });
    } else {
      // Still baking: the decision says why, and nothing was written.
      expect(summary).toMatch(/bak/);
      expect(history.entries[0].action).toBe('publish');
    }
  });

  it('stops on Ctrl-C with exit 130', async () => {
    const project = await publishedProject();
    const running = await startConsole(project);
    running.running.child.kill('SIGINT');
    const { code } = await running.running.done;
    expect(code).toBe(130);
    expect(existsSync(join(project.dir, 'releases', 'channels', 'production', 'index.json'))).toBe(true);
  });
});
