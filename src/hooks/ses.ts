import { formatBytes } from '../format.js';
import { SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import type { SesHook } from '../config/hook-schema.js';
import type { HookHandler } from './context.js';
import { eventLabel } from './context.js';
import { isReleaseEvent, type DocumentEvent, type HookEvent, type ReleaseEvent } from '../protocol/release-event.js';
import { awsCallOptions, awsClientConfig, endpointNote } from './aws.js';

const VERB: Record<ReleaseEvent['event'], string> = {
  publish: 'published',
  rollout: 'rollout changed',
  halt: 'halted',
  resume: 'resumed',
  rollback: 'rolled back',
  promote: 'promoted',
  edit: 'edited',
};


function rulesLine(event: ReleaseEvent): string {
  const { rules } = event;
  const parts = [
    `platforms ${rules.platforms?.join(', ') ?? 'all'}`,
    `app ${rules.appVersion ?? 'any version'}`,
    rules.startsAt || rules.endsAt ? `window ${rules.startsAt ?? '…'} – ${rules.endsAt ?? '…'}` : undefined,
    rules.whitelist?.length ? `whitelists ${rules.whitelist.join(', ')}` : undefined,
    rules.attributes ? `attributes ${Object.entries(rules.attributes).map(([k, v]) => `${k}=${v}`).join(', ')}` : undefined,
  ];
  return parts.filter(Boolean).join('; ');
}

/** Label/value rows shared by the text and HTML bodies. */
function emailRows(hook: SesHook, event: HookEvent): [string, string][] {
  if (!isReleaseEvent(event)) return documentRows(hook, event);
  return [
    ['Package', eventLabel(event)],
    ['Event', event.event],
    ['Channel', event.channel],
    ['Previous version', event.previousVersion ?? '(none)'],
    ['Rollout', `${event.rollout}%`],
    ['Mandatory', event.mandatory ? 'yes' : 'no'],
    ['Rules', rulesLine(event)],
    ...(event.message ? [['Notes', event.message] as [string, string]] : []),
    ['Size', formatBytes(event.size)],
    ['By', `${event.actor} at ${event.at}`],
    ['Link', hook.link ?? `${event.store.replace(/\/+$/, '')}/${event.key}`],
  ];
}

function documentRows(hook: SesHook, event: DocumentEvent): [string, string][] {
  const what: [string, string][] =
    event.event === 'switch'
      ? [['Switches', event.keys.join(', ') || '(all)']]
      : [['App release', `${event.platform}@${event.version}`], ['Rollout', `${event.rollout}%`], ['Mandatory', event.mandatory ? 'yes' : 'no']];
  return [
    ...what,
    ['Event', `${event.event} ${event.action}`],
    ['Channel', event.channel],
    ['Document version', String(event.documentVersion)],
    ['By', `${event.actor} at ${event.at}`],
    ['Link', hook.link ?? `${event.store.replace(/\/+$/, '')}/${event.documentKey}`],
  ];
}

const subjectOf = (event: HookEvent) =>
  isReleaseEvent(event)
    ? `[update-publish] ${eventLabel(event)} ${VERB[event.event]} on ${event.channel} (${event.rollout}%)`
    : `[update-publish] ${event.event} ${event.action}: ${eventLabel(event)} (v${event.documentVersion})`;

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);

export function releaseEmail(hook: SesHook, event: HookEvent): { subject: string; text: string; html: string } {
  const subject = subjectOf(event);
  const rows = emailRows(hook, event);
  const text = `${rows.map(([label, value]) => `${label}: ${value}`).join('\n')}\n`;
  const cells = rows
    .map(([label, value]) => {
      const shown = label === 'Link' && /^https?:\/\//.test(value) ? `<a href="${escapeHtml(value)}">${escapeHtml(value)}</a>` : escapeHtml(value);
      return `<tr><th align="left">${escapeHtml(label)}</th><td>${shown}</td></tr>`;
    })
    .join('');
  const html = `<p>${escapeHtml(subject)}</p><table>${cells}</table>`;
  return { subject, text, html };
}

export const runSesHook: HookHandler<SesHook> = async (hook, event, context) => {
  const email = releaseEmail(hook, event);
  const recipients = `${hook.to.length} recipient${hook.to.length === 1 ? '' : 's'}`;
  if (context.dryRun) {
    return `would call SES SendEmail${endpointNote(hook)} from ${hook.from} to ${hook.to.join(', ')}: "${email.subject}"`;
  }
  const client = new SESv2Client(awsClientConfig(hook, context.env, 'SESv2'));
  try {
    const response = await client.send(
      new SendEmailCommand({
        FromEmailAddress: hook.from,
        Destination: { ToAddresses: hook.to },
        Content: {
          Simple: {
            Subject: { Data: email.subject, Charset: 'UTF-8' },
            Body: { Text: { Data: email.text, Charset: 'UTF-8' }, Html: { Data: email.html, Charset: 'UTF-8' } },
          },
        },
      }),
      awsCallOptions(hook),
    );
    return `email ${response.MessageId ?? '(no id)'} sent to ${recipients}`;
  } finally {
    client.destroy();
  }
};
