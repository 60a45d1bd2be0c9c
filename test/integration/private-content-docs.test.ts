/** docs/private-content.md: its CloudFormation template passes cfn-lint, so users can deploy what they copy. */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

it('the CloudFormation template for a private store passes cfn-lint', async () => {
  const doc = await readFile(join(REPO_ROOT, 'docs/private-content.md'), 'utf8');
  const template = /```yaml\n(AWSTemplateFormatVersion[\s\S]*?)```/.exec(doc)?.[1];
  expect(template).toMatch(/TrustedKeyGroups/);
  const dir = await mkdtemp(join(tmpdir(), 'private-content-cfn-'));
  try {
    await writeFile(join(dir, 'template.yaml'), template!);
    const linted = await promisify(execFile)('cfn-lint', [join(dir, 'template.yaml')]).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string }) => ({ code: error.code, output: error.stdout }),
    );
    expect(linted).toEqual({ code: 0, output: '' });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
