/**
 * The Cognito device path (issue 24): `access policy --cognito` is valid IAM
 * (moto's IAM parses and accepts it) scoped to the store's bucket and prefix
 * and to the dynamodb hook's table; a device holding credentials from moto's
 * Cognito identity API reads the store with `fetch --from s3://bucket/prefix`,
 * each request signed with those credentials.
 */
import { randomBytes } from 'node:crypto';
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CognitoIdentityClient, CreateIdentityPoolCommand, GetCredentialsForIdentityCommand, GetIdCommand } from '@aws-sdk/client-cognito-identity';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectRefused, makeProject, removeProjects, snapshotTree, succeeded, type Project } from '../helpers/cli.js';
import { startFaultProxy } from '../helpers/fault-proxy.js';
import { createKeyedTable, motoIam, startMoto, type Moto } from '../helpers/moto.js';
import { createBucket, rawS3, s3ProjectConfig } from '../helpers/s3-e2e.js';

let moto: Moto;
beforeAll(async () => {
  moto = await startMoto();
});
afterAll(async () => {
  await removeProjects();
  await moto?.stop();
});

const ACCESS = { keyPairId: 'K2JCJMDEHXQW5F', baseUrl: 'https://cdn.example.test/app' };

async function bucketProject(bucket: string, scope: 'packages' | 'all'): Promise<Project> {
  await createBucket(rawS3(moto.endpoint), bucket);
  const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  await createKeyedTable(dynamodb, `${bucket}-releases`);
  return makeProject({
    packages: { maps: { 'a.txt': 'alpha\n', 'sub/b.bin': Buffer.alloc(5000, 3) } },
    config: {
      ...s3ProjectConfig(moto.endpoint, bucket, 'app'),
      channels: ['beta'],
      access: { ...ACCESS, scope },
      hooks: [{ type: 'dynamodb', table: `${bucket}-releases`, endpoint: moto.endpoint, region: 'us-east-1' }],
    },
  });
}

describe('access policy --cognito', () => {
  it("is valid IAM JSON for the store's bucket and prefix and the hook's table (scope packages)", async () => {
    const project = await bucketProject('policy-packages', 'packages');
    const result = await project.run(['access', 'policy', '--cognito', '--json'], { env: moto.env });
    const policy = succeeded(result);
    expect(JSON.parse(result.stdout)).toEqual(policy);
    expect(policy).toEqual({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'ReadStoreObjects', Effect: 'Allow', Action: ['s3:GetObject'], Resource: ['arn:aws:s3:::policy-packages/app/packages/*'] },
        {
          Sid: 'ReadCurrentReleases',
          Effect: 'Allow',
          Action: ['dynamodb:GetItem'],
          Resource: ['arn:aws:dynamodb:us-east-1:*:table/policy-packages-releases'],
          Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['maps', '#switches', '#app-releases'] } },
        },
      ],
    });
    // moto's IAM parses policy documents as AWS does: it takes this one and refuses a broken one.
    const created = await motoIam(moto, { Action: 'CreatePolicy', PolicyName: 'devices', PolicyDocument: result.stdout });
    expect(created).toContain('<CreatePolicyResult>');
    const broken = await motoIam(moto, { Action: 'CreatePolicy', PolicyName: 'broken', PolicyDocument: result.stdout.replace('"Effect": "Allow"', '"Effect": "Maybe"') });
    expect(broken).toContain('MalformedPolicyDocument');
  });

  it('under scope all also opens channel documents and whitelists, never history or archive; --channel narrows them', async () => {
    const project = await bucketProject('policy-all', 'all');
    const policy = succeeded(await project.run(['access', 'policy', '--cognito', '--json'], { env: moto.env }));
    expect(policy.Statement[0].Resource).toEqual([
      'arn:aws:s3:::policy-all/app/packages/*',
      'arn:aws:s3:::policy-all/app/whitelists/*',
      'arn:aws:s3:::policy-all/app/channels/production/index.json',
      'arn:aws:s3:::policy-all/app/channels/production/switches.json',
      'arn:aws:s3:::policy-all/app/channels/production/app-releases.json',
      'arn:aws:s3:::policy-all/app/channels/beta/index.json',
      'arn:aws:s3:::policy-all/app/channels/beta/switches.json',
      'arn:aws:s3:::policy-all/app/channels/beta/app-releases.json',
    ]);
    const beta = succeeded(await project.run(['access', 'policy', '--cognito', '--channel', 'beta', '--json'], { env: moto.env }));
    expect(beta.Statement[0].Resource.filter((arn: string) => arn.includes('/channels/'))).toHaveLength(3);
    expectRefused(await project.run(['access', 'policy', '--cognito', '--store', './releases'], { env: moto.env }), 2, /not one; pass --store s3:\/\/bucket\/prefix/);
    expectRefused(await project.run(['access', 'policy'], { env: moto.env }), 2, /give --cognito/);
  });
});

describe('fetch --from s3:// with Cognito credentials', () => {
  it('installs, every S3 request signed with the identity pool credentials', async () => {
    const project = await bucketProject('cognito-device', 'packages');
    succeeded(await project.run(['publish', '--yes', '--json'], { env: moto.env }));
    const cognito = new CognitoIdentityClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
    const pool = await cognito.send(new CreateIdentityPoolCommand({ IdentityPoolName: 'devices', AllowUnauthenticatedIdentities: true }));
    const { IdentityId } = await cognito.send(new GetIdCommand({ IdentityPoolId: pool.IdentityPoolId! }));
    const { Credentials } = await cognito.send(new GetCredentialsForIdentityCommand({ IdentityId: IdentityId! }));
    expect(Credentials?.AccessKeyId).toBeTruthy();

    // What the device's requests carry, seen between it and moto.
    const seen: { method: string; path: string; accessKeyId?: string; token?: string }[] = [];
    const proxy = createServer((request, response) => {
      seen.push({
        method: request.method!,
        path: request.url!,
        accessKeyId: /Credential=([^/]+)\//.exec(String(request.headers.authorization))?.[1],
        token: request.headers['x-amz-security-token'] as string | undefined,
      });
      const upstream = httpRequest(new URL(request.url!, moto.endpoint), { method: request.method, headers: request.headers }, (answer) => {
        response.writeHead(answer.statusCode!, answer.headers);
        answer.pipe(response);
      });
      request.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    try {
      const device = join(project.dir, 'device.json');
      await writeFile(device, JSON.stringify({ packages: { maps: { dir: 'assets/maps' } }, s3: { endpoint: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`, forcePathStyle: true, region: 'us-east-1' } }));
      const env = { ...moto.env, AWS_ACCESS_KEY_ID: Credentials!.AccessKeyId!, AWS_SECRET_ACCESS_KEY: Credentials!.SecretKey!, AWS_SESSION_TOKEN: Credentials!.SessionToken! };
      const into = join(project.dir, 'installed');
      const fetched = succeeded(await project.run(['fetch', 'maps', '--config', device, '--from', 's3://cognito-device/app', '--into', into, '--json'], { env }));
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0' });
      expect(await snapshotTree(into, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
      expect(seen.map(({ path }) => path.split('?')[0])).toEqual(expect.arrayContaining(['/cognito-device/app/channels/production/index.json', '/cognito-device/app/packages/maps/1.0.0/full.zip']));
      expect(seen.every(({ method, accessKeyId, token }) => method === 'GET' && accessKeyId === Credentials!.AccessKeyId && token === Credentials!.SessionToken)).toBe(true);
      // The device path's other half: the current item the dynamodb hook keeps, read with GetItem.
      const dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: moto.endpoint, credentials: { accessKeyId: Credentials!.AccessKeyId!, secretAccessKey: Credentials!.SecretKey!, sessionToken: Credentials!.SessionToken! } });
      const current = await dynamodb.send(new GetItemCommand({ TableName: 'cognito-device-releases', Key: { package: { S: 'maps' }, sk: { S: 'current#production' } } }));
      expect(current.Item?.version?.S).toBe('1.0.0');
    } finally {
      proxy.closeAllConnections();
      await new Promise((resolve) => proxy.close(resolve));
    }
  });

  it('resumes a download cut mid-body with a Range request pinned to the ETag', async () => {
    const project = await makeProject({
      packages: { maps: { 'big.bin': randomBytes(3 * 1024 * 1024) } },
      config: { ...s3ProjectConfig(moto.endpoint, 'cognito-resume', 'app'), access: { ...ACCESS, scope: 'packages' } },
    });
    await createBucket(rawS3(moto.endpoint), 'cognito-resume');
    succeeded(await project.run(['publish', '--yes', '--json'], { env: moto.env }));
    const proxy = await startFaultProxy({ target: moto.endpoint, faultRate: 1, faults: ['reset'], only: (request) => request.method === 'GET' && request.url.includes('full.zip') && !request.range });
    try {
      const device = join(project.dir, 'device.json');
      await writeFile(device, JSON.stringify({ packages: { maps: { dir: 'assets/maps' } }, s3: { endpoint: proxy.endpoint, forcePathStyle: true, region: 'us-east-1' } }));
      const into = join(project.dir, 'installed');
      const fetched = succeeded(await project.run(['fetch', 'maps', '--config', device, '--from', 's3://cognito-resume/app', '--into', into, '--json'], { env: moto.env }));
      expect(fetched).toMatchObject({ updated: true, version: '1.0.0' });
      expect(await snapshotTree(into, { ignore: ['.update-publish.json'] })).toEqual(await snapshotTree(project.packageDir('maps')));
      const downloads = proxy.log.filter((request) => request.url.includes('full.zip'));
      expect(downloads.map(({ fault, range }) => ({ cut: fault === 'reset', range: range !== undefined }))).toEqual([
        { cut: true, range: false },
        { cut: false, range: true },
      ]);
    } finally {
      await proxy.close();
    }
  });
});
