/**
 * `receipts setup` prints a CloudFormation template that cfn-lint (the
 * linter AWS publishes) accepts, with the pieces receipts need.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeProject, removeProjects, succeeded } from '../helpers/cli.js';

const CFN_LINT = spawnSync('cfn-lint', ['--version'], { stdio: 'ignore' }).status === 0;
if (!CFN_LINT && process.env.CI === 'true') throw new Error('cfn-lint is required under CI (pip install cfn-lint)');

afterAll(removeProjects);

describe.skipIf(!CFN_LINT)('receipts setup', () => {
  it('prints a template cfn-lint accepts: 204 function on the configured path, no caching there, logs with a lifecycle, the Athena table', async () => {
    const project = await makeProject({ config: { receipts: { url: 'https://cdn.example.com/updates/r/v1' } } });
    const template = succeeded(await project.run(['receipts', 'setup', '--json']));
    const file = join(project.dir, 'receipts.template.json');
    await writeFile(file, JSON.stringify(template, null, 2));
    const lint = spawnSync('cfn-lint', [file], { encoding: 'utf8' });
    expect(lint.status, lint.stdout + lint.stderr).toBe(0);

    const { Resources } = template;
    const behaviour = Resources.Distribution.Properties.DistributionConfig.CacheBehaviors[0];
    expect(behaviour).toMatchObject({ PathPattern: 'updates/r/v1', CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad' });
    expect(behaviour.FunctionAssociations[0].EventType).toBe('viewer-request');
    expect(Resources.ReceiptsFunction.Properties.FunctionCode).toContain('"/updates/r/v1"');
    expect(Resources.LogBucket.Properties.LifecycleConfiguration.Rules[0].Status).toBe('Enabled');
    expect(Resources.Distribution.Properties.DistributionConfig.Logging.Bucket).toEqual({ 'Fn::GetAtt': ['LogBucket', 'RegionalDomainName'] });
    expect(Resources.ReceiptsTable.Properties.TableInput.StorageDescriptor.Columns.map((column: any) => column.Name)).toContain('query_string');

    // The check can fail: a template missing what CloudFront requires is refused.
    delete Resources.Distribution.Properties.DistributionConfig.DefaultCacheBehavior;
    await writeFile(file, JSON.stringify(template, null, 2));
    expect(spawnSync('cfn-lint', [file], { encoding: 'utf8' }).status).not.toBe(0);
  }, 120_000);
});
