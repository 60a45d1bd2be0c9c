import { spawnSync } from 'node:child_process';
import { CloudFrontClient, CreateDistributionCommand, GetInvalidationCommand, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { DynamoDBClient, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hooksConfigSchema } from '../../src/config/hook-schema.js';
import type { HookEvent } from '../../src/protocol/release-event.js';
import { release } from '../helpers/releases.js';
import { runHooks } from '../../src/hooks/run-hooks.js';
import { snsMessage } from '../../src/hooks/sns.js';
import { invalidationPaths } from '../../src/hooks/cloudfront.js';
import type { CloudFrontHook } from '../../src/config/hook-schema.js';
import { createKeyedTable, startMoto, type Moto } from '../helpers/moto.js';
import { appReleaseEvent, releaseEvent, switchEvent } from '../helpers/release-event.js';

const motoInstalled = spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
if (!motoInstalled && process.env.CI === 'true') throw new Error('moto_server is required under CI (pip install "moto[server]")');

describe.skipIf(!motoInstalled)('AWS hooks against moto', () => {
  let moto: Moto;
  const savedEnv = { ...process.env };
  const clientConfig = () => ({ region: 'us-east-1', endpoint: moto.endpoint });

  /** Runs one hook (endpoint pointed at moto) for the given events. */
  const runOne = async (hook: Record<string, unknown>, events: HookEvent[] = [releaseEvent()], dryRun = false) =>
    runHooks(hooksConfigSchema.parse([{ ...hook, endpoint: moto.endpoint }]), events, { dryRun, log: () => {}, env: process.env, cwd: process.cwd() });

  beforeAll(async () => {
    moto = await startMoto();
    // The hooks use the SDK's standard credential chain: give it moto's dummy credentials.
    Object.assign(process.env, moto.env);
  }, 60_000);
  beforeEach(() => moto.reset());
  afterAll(async () => {
    process.env = savedEnv;
    await moto?.stop();
  });

  it('cloudfront invalidates only the mutable documents, and dry run invalidates nothing', async () => {
    const cloudfront = new CloudFrontClient(clientConfig());
    const { Distribution } = await cloudfront.send(
      new CreateDistributionCommand({
        DistributionConfig: {
          CallerReference: 'test',
          Comment: 'test',
          Enabled: true,
          Origins: { Quantity: 1, Items: [{ Id: 'store', DomainName: 'releases-bucket.s3.amazonaws.com', S3OriginConfig: { OriginAccessIdentity: '' } }] },
          DefaultCacheBehavior: { TargetOriginId: 'store', ViewerProtocolPolicy: 'https-only' },
        },
      }),
    );
    const distributionId = Distribution!.Id!;
    const listInvalidations = async () =>
      (await cloudfront.send(new ListInvalidationsCommand({ DistributionId: distributionId }))).InvalidationList?.Items ?? [];

    const [dry] = await runOne({ type: 'cloudfront', distributionId }, undefined, true);
    expect(dry).toMatchObject({ status: 'skipped', detail: expect.stringContaining('/channels/production/index.json') });
    expect(await listInvalidations()).toHaveLength(0);

    const [result] = await runOne({ type: 'cloudfront', distributionId, pathPrefix: '/updates' });
    expect(result).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^invalidation \S+ for 1 path$/) });
    const invalidations = await listInvalidations();
    expect(invalidations).toHaveLength(1);
    const { Invalidation } = await cloudfront.send(new GetInvalidationCommand({ DistributionId: distributionId, Id: invalidations[0].Id }));
    expect(Invalidation?.InvalidationBatch?.Paths?.Items).toEqual(['/updates/channels/production/index.json']);

    // A prefix with a space and non-ASCII is sent URL-encoded, as CloudFront matches it.
    const [encoded] = await runOne({ type: 'cloudfront', distributionId, pathPrefix: '/ü dir/x' });
    expect(encoded).toMatchObject({ status: 'ok' });
    const newest = (await listInvalidations()).find((item) => item.Id !== invalidations[0].Id)!;
    const batch = (await cloudfront.send(new GetInvalidationCommand({ DistributionId: distributionId, Id: newest.Id }))).Invalidation?.InvalidationBatch;
    expect(batch?.Paths?.Items).toEqual(['/%C3%BC%20dir/x/channels/production/index.json']);

    const [missing] = await runOne({ type: 'cloudfront', distributionId: 'ENOSUCHDIST' });
    expect(missing).toMatchObject({ status: 'failed', error: expect.stringContaining('NoSuchDistribution') });
    cloudfront.destroy();
  });

  it('sns publishes one json-structured message per event, delivered to an SQS subscriber', async () => {
    const sns = new SNSClient(clientConfig());
    const sqs = new SQSClient(clientConfig());
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: 'releases' }));
    const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: 'release-listener' }));
    const { Attributes } = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
    await sns.send(
      new SubscribeCommand({ TopicArn, Protocol: 'sqs', Endpoint: Attributes!.QueueArn, Attributes: { RawMessageDelivery: 'true' } }),
    );
    process.env.UP_TEST_TOPIC = TopicArn;

    const events = [releaseEvent(), releaseEvent({ event: 'rollout', rollout: 50, mandatory: true })];
    const results = await runOne({ type: 'sns', topicArn: 'env:UP_TEST_TOPIC' }, events);
    expect(results.map((r) => r.status)).toEqual(['ok', 'ok']);

    const { Messages = [] } = await sqs.send(new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }));
    const delivered = Messages.map((message) => JSON.parse(message.Body!)).sort((a, b) => a.rollout - b.rollout);
    expect(delivered).toEqual([
      expect.objectContaining({ event: 'publish', package: 'maps', version: '1.2.0', channel: 'production', mandatory: false }),
      expect.objectContaining({ event: 'rollout', package: 'maps', version: '1.2.0', rollout: 50, mandatory: true }),
    ]);
    sns.destroy();
    sqs.destroy();
  });

  it('sns tells subscribers what changed in switches and app releases, without the documents', () => {
    const switchMessage = JSON.parse(snsMessage(switchEvent()));
    expect(JSON.parse(switchMessage.default)).toEqual({
      event: 'switch', action: 'set', channel: 'production', documentVersion: 7, keys: ['newCheckout'], at: '2025-01-02T03:04:05.000Z',
    });
    expect(JSON.parse(switchMessage.GCM).fcmV1Message.message.data).toMatchObject({ event: 'switch', keys: 'newCheckout', documentVersion: '7' });
    const appMessage = JSON.parse(JSON.parse(snsMessage(appReleaseEvent())).default);
    expect(appMessage).toMatchObject({ event: 'app-release', action: 'add', platform: 'ios', version: '3.2.0', rollout: 10 });
    expect(invalidationPaths(hooksConfigSchema.parse([{ type: 'cloudfront', distributionId: 'E1' }])[0] as CloudFrontHook, switchEvent())).toEqual([
      '/channels/production/switches.json',
    ]);
  });

  it('sns message carries silent pushes for APNs and FCM', () => {
    const message = JSON.parse(snsMessage(releaseEvent()));
    expect(Object.keys(message).sort()).toEqual(['APNS', 'APNS_SANDBOX', 'GCM', 'default']);
    expect(JSON.parse(message.APNS)).toMatchObject({ aps: { 'content-available': 1 }, updatePublish: { package: 'maps', version: '1.2.0' } });
    expect(JSON.parse(message.GCM).fcmV1Message.message.data).toMatchObject({ package: 'maps', version: '1.2.0', mandatory: 'false' });
  });

  it('ses emails the release team from a verified sender, and fails for an unverified one', async () => {
    const ses = new SESv2Client(clientConfig());
    await ses.send(new CreateEmailIdentityCommand({ EmailIdentity: 'releases@example.com' }));
    const sentMessages = async () => {
      const data = (await (await fetch(`${moto.endpoint}/moto-api/data.json`)).json()) as Record<string, any>;
      return Object.values(data.ses?.Message ?? {}).flat() as Array<{ subject: string; body: string; destinations: { ToAddresses: string[] } }>;
    };

    const hook = { type: 'ses', from: 'releases@example.com', to: ['team@example.com'] };
    const [result] = await runOne(hook);
    expect(result).toMatchObject({ status: 'ok', detail: expect.stringMatching(/^email \S+ sent to 1 recipient$/) });
    const [sent] = await sentMessages();
    expect(sent.subject).toBe('[update-publish] maps@1.2.0 published on production (10%)');
    expect(sent.body).toContain('<th align="left">Size</th><td>121 KiB</td>');
    expect(sent.destinations.ToAddresses).toEqual(['team@example.com']);

    const [unverified] = await runOne({ ...hook, from: 'someone@elsewhere.org' });
    expect(unverified).toMatchObject({ status: 'failed', error: expect.stringContaining('not verified') });
    ses.destroy();
  });

  it('dynamodb writes one item per event and never overwrites one', async () => {
    const dynamodb = new DynamoDBClient(clientConfig());
    await createKeyedTable(dynamodb, 'releases');
    const hook = { type: 'dynamodb', table: 'releases' };
    const publish = releaseEvent();
    const halt = releaseEvent({ event: 'halt', at: '2025-01-02T05:00:00.000Z' });
    const firstTwo = await runOne(hook, [publish, halt]);
    expect(firstTwo.map((r) => r.status), JSON.stringify(firstTwo)).toEqual(['ok', 'ok']);

    const [again] = await runOne(hook, [{ ...publish, actor: 'someone-else' }]);
    expect(again).toMatchObject({ status: 'failed', error: expect.stringContaining('already holds publish of maps@1.2.0') });

    const { Items = [] } = await dynamodb.send(
      new QueryCommand({
        TableName: 'releases',
        KeyConditionExpression: '#p = :p AND begins_with(sk, :v)',
        ExpressionAttributeNames: { '#p': 'package' },
        ExpressionAttributeValues: { ':p': { S: 'maps' }, ':v': { S: '1.2.0#' } },
      }),
    );
    expect(Items.map((item) => [item.sk.S, item.event.S, item.actor.S])).toEqual([
      ['1.2.0#production#halt#2025-01-02T05:00:00.000Z', 'halt', 'ci'],
      ['1.2.0#production#publish#2025-01-02T03:04:05.000Z', 'publish', 'ci'],
    ]);
    expect(Items[1]).toMatchObject({ rollout: { N: '10' }, mandatory: { BOOL: false }, previousVersion: { S: '1.1.0' } });
    dynamodb.destroy();
  });

  it('dynamodb keeps one current item per package and channel and per channel document, never set back by an older state, in a table with its own key names', async () => {
    const dynamodb = new DynamoDBClient(clientConfig());
    await createKeyedTable(dynamodb, 'content', 'pk', 'rk');
    const hook = { type: 'dynamodb', table: 'content', partitionKey: 'pk', sortKey: 'rk' };
    const current = async (partition: string) =>
      (await dynamodb.send(new GetItemCommand({ TableName: 'content', Key: { pk: { S: partition }, rk: { S: 'current#production' } } }))).Item;

    // The newer state lands first (a slow hook run of an older change finishes last): the older one is left out.
    const newer = releaseEvent({ event: 'rollout', rollout: 50, indexVersion: 5, at: '2025-01-02T06:00:01.000Z',
      releases: [release('1.2.0', { rules: { rollout: 50, mandatory: false } }), release('1.1.0')] });
    const older = releaseEvent({ indexVersion: 4 });
    const results = await runOne(hook, [newer, older, switchEvent({ documentVersion: 8, at: '2025-01-02T06:00:00.000Z' }), switchEvent(), appReleaseEvent()]);
    expect(results.map((result) => result.status)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(results[1].detail).toContain('left as is');
    expect(results[3].detail).toContain('left as is');

    const maps = await current('maps');
    expect(maps).toMatchObject({
      channel: { S: 'production' },
      version: { S: '1.2.0' },
      state: { S: 'active' },
      rollout: { N: '50' },
      fullKey: { S: 'packages/maps/1.2.0/full.zip' },
      fullSize: { N: '1000' },
      fullSha256: { S: 'full-1.2.0' },
      manifestKey: { S: 'packages/maps/1.2.0/manifest.json' },
      indexVersion: { N: '5' },
    });
    expect(JSON.parse(maps!.rules.S!)).toEqual({ rollout: 50, mandatory: false });
    expect(JSON.parse(maps!.releases.S!).map((entry: { version: string }) => entry.version)).toEqual(['1.2.0', '1.1.0']);
    const switches = await current('#switches');
    expect(switches).toMatchObject({ documentVersion: { N: '8' }, documentKey: { S: 'channels/production/switches.json' } });
    expect(JSON.parse(switches!.document.S!)).toMatchObject({ version: 8, switches: { newCheckout: { default: false } } });
    const appReleases = await current('#app-releases');
    expect(JSON.parse(appReleases!.document.S!).platforms.ios.releases[0]).toMatchObject({ version: '3.2.0', url: 'https://apps.apple.com/app/id1' });

    // The same state again (a hooks re-run) is written again; every event has its own item.
    expect((await runOne(hook, [switchEvent({ documentVersion: 8, at: '2025-01-02T07:00:00.000Z' })]))[0].detail).toContain('updated');
    const { Items = [] } = await dynamodb.send(
      new QueryCommand({
        TableName: 'content',
        KeyConditionExpression: 'pk = :p AND begins_with(rk, :channel)',
        ExpressionAttributeValues: { ':p': { S: '#switches' }, ':channel': { S: 'production#' } },
      }),
    );
    expect(Items.map((item) => item.rk.S)).toEqual([
      'production#0000000007#switch#2025-01-02T03:04:05.000Z',
      'production#0000000008#switch#2025-01-02T06:00:00.000Z',
      'production#0000000008#switch#2025-01-02T07:00:00.000Z',
    ]);
    dynamodb.destroy();
  });
});
