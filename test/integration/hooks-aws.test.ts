import { spawnSync } from 'node:child_process';
import { CloudFrontClient, CreateDistributionCommand, GetInvalidationCommand, ListInvalidationsCommand } from '@aws-sdk/client-cloudfront';
import { CreateTableCommand, DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import { CreateEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hooksConfigSchema } from '../../src/config/hook-schema.js';
import type { ReleaseEvent } from '../../src/protocol/release-event.js';
import { runHooks } from '../../src/hooks/run-hooks.js';
import { snsMessage } from '../../src/hooks/sns.js';
import { startMoto, type Moto } from '../helpers/moto.js';
import { releaseEvent } from '../helpers/release-event.js';

const motoInstalled = spawnSync('moto_server', ['--help'], { stdio: 'ignore' }).status === 0;
if (!motoInstalled && process.env.CI === 'true') throw new Error('moto_server is required under CI (pip install "moto[server]")');

describe.skipIf(!motoInstalled)('AWS hooks against moto', () => {
  let moto: Moto;
  const savedEnv = { ...process.env };
  const clientConfig = () => ({ region: 'us-east-1', endpoint: moto.endpoint });

  /** Runs one hook (endpoint pointed at moto) for the given events. */
  const runOne = async (hook: Record<string, unknown>, events: ReleaseEvent[] = [releaseEvent()], dryRun = false) =>
    runHooks(hooksConfigSchema.parse([{ ...hook, endpoint: moto.endpoint }]), events, { dryRun, log: () => {} });

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
    await dynamodb.send(
      new CreateTableCommand({
        TableName: 'releases',
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [
          { AttributeName: 'package', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'package', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
      }),
    );
    const hook = { type: 'dynamodb', table: 'releases' };
    const publish = releaseEvent();
    const halt = releaseEvent({ event: 'halt', at: '2025-01-02T05:00:00.000Z' });
    expect((await runOne(hook, [publish, halt])).map((r) => r.status)).toEqual(['ok', 'ok']);

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
});
