import { PublishCommand, SNSClient, type MessageAttributeValue } from '@aws-sdk/client-sns';
import { snsArnRegion, type SnsHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import { eventLabel } from './context.js';
import { isReleaseEvent, type HookEvent } from '../protocol/release-event.js';
import { awsCallOptions, awsClientConfig, endpointNote } from './aws.js';

/** What subscribers (apps, queues, people) learn about a change: never whole documents (SNS caps a message at 256 KB). */
export function releaseSummary(event: HookEvent) {
  if (isReleaseEvent(event)) {
    return {
      event: event.event,
      package: event.package,
      version: event.version,
      previousVersion: event.previousVersion,
      channel: event.channel,
      rollout: event.rollout,
      mandatory: event.mandatory,
      at: event.at,
    };
  }
  const document = { event: event.event, action: event.action, channel: event.channel, documentVersion: event.documentVersion };
  if (event.event === 'switch') return { ...document, keys: event.keys, at: event.at };
  return { ...document, platform: event.platform, version: event.version, rollout: event.rollout, mandatory: event.mandatory, at: event.at };
}

/**
 * A `MessageStructure: json` message: `default` (the summary as JSON, for
 * queues, HTTP and email subscribers) plus silent pushes that wake the app to
 * fetch in the background — APNs `content-available`, FCM v1 data message
 * (data values must be strings).
 */
export function snsMessage(event: HookEvent): string {
  const summary = releaseSummary(event);
  const apns = JSON.stringify({ aps: { 'content-available': 1 }, updatePublish: summary });
  const data = Object.fromEntries(Object.entries(summary).map(([key, value]) => [key, Array.isArray(value) ? value.join(',') : String(value ?? '')]));
  return JSON.stringify({
    default: JSON.stringify(summary),
    APNS: apns,
    APNS_SANDBOX: apns,
    GCM: JSON.stringify({ fcmV1Message: { message: { data } } }),
  });
}

const stringAttribute = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });

/** For subscription filter policies, and the headers APNs requires of a background push. */
export function snsMessageAttributes(event: HookEvent): Record<string, MessageAttributeValue> {
  return {
    event: stringAttribute(event.event),
    ...(isReleaseEvent(event) && { package: stringAttribute(event.package) }),
    channel: stringAttribute(event.channel),
    'AWS.SNS.MOBILE.APNS.PUSH_TYPE': stringAttribute('background'),
    'AWS.SNS.MOBILE.APNS.PRIORITY': stringAttribute('5'),
  };
}

/** Email subscribers see it; SNS caps it at 100 characters. */
const subjectOf = (event: HookEvent) =>
  (isReleaseEvent(event)
    ? `update-publish: ${event.event} ${eventLabel(event)} on ${event.channel}`
    : `update-publish: ${event.event} ${event.action} ${eventLabel(event)}`
  ).slice(0, 100);

export const runSnsHook: HookHandler<SnsHook> = async (hook, event, context) => {
  const target = hook.topicArn ? { TopicArn: hook.topicArn } : { TargetArn: hook.targetArn };
  const targetLabel = hook.topicArn ? `topic ${hook.topicArn}` : `endpoint ${hook.targetArn}`;
  if (context.dryRun) {
    return `would call SNS Publish${endpointNote(hook)} to ${targetLabel} (MessageStructure json: default, APNS, APNS_SANDBOX, GCM) for ${event.event} ${eventLabel(event)}`;
  }
  // Without a region set, the topic's own (from its ARN) before the SDK's chain.
  const client = new SNSClient(awsClientConfig(hook, context.env, 'SNS', snsArnRegion(hook.topicArn ?? hook.targetArn)));
  try {
    const response = await client.send(
      new PublishCommand({
        ...target,
        MessageStructure: 'json',
        Message: snsMessage(event),
        Subject: subjectOf(event),
        MessageAttributes: snsMessageAttributes(event),
      }),
      awsCallOptions(hook),
    );
    return `message ${response.MessageId ?? '(no id)'} published to ${targetLabel}`;
  } finally {
    client.destroy();
  }
};
