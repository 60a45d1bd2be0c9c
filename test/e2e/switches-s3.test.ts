/**
 * Switches and app releases on S3 with the DynamoDB hook (moto): the same
 * documents as on the folder store, concurrent writers from two processes,
 * tampering refused, and the current items devices can query.
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAppReleasesDocument, readSwitchesDocument } from '../../src/client/fetch/channel-documents.js';
import { storeSource } from '../../src/client/fetch/source.js';
import { resolveSwitches } from '../../src/client/switches.js';
import { expectRefused, makeProject, removeProjects, succeeded, type Project } from '../helpers/cli.js';
import { createKeyedTable, type Moto } from '../helpers/moto.js';
import { MOTO_INSTALLED, objectListing, openS3Store, s3ProjectConfig, startMotoBucket } from '../helpers/s3-e2e.js';

const BUCKET = 'e2e-switches';
const PREFIX = 'updates';
const SWITCHES = 'channels/production/switches.json';
const TABLE = 'releases';

describe.skipIf(!MOTO_INSTALLED)('switches and app releases on S3 with the DynamoDB hook (moto)', () => {
  let moto: Moto;
  let s3: S3Client;
  let dynamodb: DynamoDBClient;
  let project: Project;

  beforeAll(async () => {
    ({ moto, s3 } = await startMotoBucket(BUCKET));
    dynamodb = new DynamoDBClient({ region: 'us-east-1', endpoint: moto.endpoint });
    await createKeyedTable(dynamodb, TABLE);
    project = await makeProject({
      config: {
        ...s3ProjectConfig(moto.endpoint, BUCKET, PREFIX),
        signing: { privateKey: 'keys/signing-private.pem' },
        hooks: [{ type: 'dynamodb', table: TABLE, endpoint: moto.endpoint, region: 'us-east-1' }],
      },
    });
    succeeded(await project.run(['keys', 'generate', '--out', 'keys', '--json']));
  }, 60_000);
  afterAll(async () => {
    await removeProjects();
    dynamodb?.destroy();
    s3?.destroy();
    await moto?.stop();
  });

  const run = async (...args: string[]) => succeeded(await project.run([...args, '--yes', '--json']));
  const source = () => storeSource(openS3Store(moto.endpoint, BUCKET, PREFIX));
  const trusted = () => ['--public-key', join(project.dir, 'keys', 'signing-public.pem')];
  const readObject = async (key: string) =>
    Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${PREFIX}/${key}` }))).Body!.transformToByteArray());
  const current = async (partition: string) =>
    (await dynamodb.send(new GetItemCommand({ TableName: TABLE, Key: { package: { S: partition }, sk: { S: 'current#production' } } }))).Item!;

  it('sets, targets, rolls out and rolls back switches; two processes at once both land; devices and DynamoDB see the same state', async () => {
    const published = await run('publish');
    expect(published.hooks).toEqual([expect.objectContaining({ type: 'dynamodb', status: 'ok' })]);
    const publishedIndex = JSON.parse((await readObject('channels/production/index.json')).toString('utf8'));
    await run('switch', 'set', 'newCheckout', 'false', '--type', 'boolean');
    await run('switch', 'set', 'newCheckout', 'true', '--rollout', '10');
    const results = await Promise.all(['alpha', 'beta'].map((key) => project.run(['switch', 'set', key, '"on"', '--yes', '--json'], { spawn: true })));
    for (const result of results) expect(result.code, result.stderr).toBe(0);
    await run('switch', 'set', 'newCheckout', 'true', '--rollout', '50');
    expect(await run('switch', 'rollback')).toMatchObject({ from: 5, to: 4, documentVersion: 6 });

    const { document } = await readSwitchesDocument(source(), 'production', undefined);
    expect(document).toMatchObject({ version: 6, switches: { alpha: { default: 'on' }, beta: { default: 'on' }, newCheckout: { variants: [{ rules: { rollout: 10 } }] } } });
    const served = Array.from({ length: 10_000 }, (_, i) => `device-${i}`).filter((deviceId) => resolveSwitches(document, { deviceId }).values.newCheckout === true);
    expect(Math.abs(served.length / 10_000 - 0.1)).toBeLessThanOrEqual(0.01);
    expect(succeeded(await project.run(['switch', 'resolve', '--device-id', served[0], ...trusted(), '--json'])).values.newCheckout).toBe(true);

    // DynamoDB: the channel's current switches are the document as written; the package's current release is what devices need.
    const switches = await current('#switches');
    expect(switches.documentVersion).toEqual({ N: '6' });
    // The document as stored, signatures included: devices check it as they check the store's.
    expect(JSON.parse(switches.document.S!)).toEqual({ ...document, signatures: [expect.objectContaining({ keyid: expect.any(String) })] });
    const maps = await current('maps');
    const index = JSON.parse((await readObject('channels/production/index.json')).toString('utf8'));
    const release = index.packages.maps.releases[0];
    expect(maps).toMatchObject({
      version: { S: '1.0.0' },
      state: { S: 'active' },
      fullKey: { S: release.full.key },
      fullSize: { N: String(release.full.size) },
      fullSha256: { S: release.full.sha256 },
      // The index the release was written in: later index writes (naming each switches version) leave the release as it was.
      indexVersion: { N: String(publishedIndex.version) },
    });
    expect(index.version).toBe(publishedIndex.version + 6);

    await run('rollout', 'maps', '50');
    expect((await current('maps')).rollout).toEqual({ N: '50' });
  });

  it('keeps app releases beside them, and DynamoDB holds the current notices', async () => {
    await run('app-release', 'add', '--platform', 'android', '--version', '3.2.0', '--url', 'https://play.google.com/store/apps/details?id=com.example', '--rollout', '25');
    const { document } = await readAppReleasesDocument(source(), 'production', undefined);
    expect(document.platforms.android.releases[0]).toMatchObject({ version: '3.2.0', rules: { rollout: 25 } });
    const item = await current('#app-releases');
    expect(item.documentVersion).toEqual({ N: '1' });
    expect(JSON.parse(item.document.S!)).toEqual({ ...document, signatures: expect.any(Array) });
    expect(succeeded(await project.run(['app-release', 'resolve', '--platform', 'android', '--app-version', '3.0.0', ...trusted(), '--json']))).toMatchObject({
      documentVersion: 1,
    });
  });

  it('refuses a switches document changed in the bucket: devices, the next change, nothing written', async () => {
    const key = `${PREFIX}/${SWITCHES}`;
    const original = await readObject(SWITCHES);
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: original.toString().replace('"rollout":10', '"rollout":100') }));
    try {
      const before = await objectListing(s3, BUCKET, PREFIX);
      const resolved = await project.run(['switch', 'resolve', '--device-id', 'd1', ...trusted()]);
      expectRefused(resolved, 1, /^error: channels\/production\/switches\.json:? signature by key \S+ does not match the content/);
      expectRefused(await project.run(['switch', 'set', 'gamma', 'true', '--yes']), 1, /switches\.json signature by key \S+ does not match the content.*keys resign/);
      expect(await objectListing(s3, BUCKET, PREFIX)).toEqual(before);
    } finally {
      await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: original }));
    }
  });
});
