/**
 * `history <pkg> [--channel]`: every release of the package on the channel
 * and every change to it (publish, rollout, halt, resume, rollback, promote),
 * newest first, with who and when.
 *
 * JSON: { channel, package, entries: [{ at, actor, action, version, from, to, details }] } (from/to null when the action has none)
 */
import type { Command } from 'commander';
import type { ReleaseRules } from '../../protocol/types.js';
import { describeProvenance, describeRules } from '../../release/rules.js';
import { UserError } from '../../errors.js';
import type { HistoryEntry } from '../../channel/history.js';
import { readPackageHistory } from '../../workflows/status.js';
import { withContext, type GlobalOptions } from '../context.js';
import { escapeControls, formatTable } from '../../format.js';
import type { Session } from '../session.js';

interface HistoryFlags extends GlobalOptions {
  channel?: string;
  limit?: string;
}

export function registerHistory(program: Command, session: Session): void {
  program
    .command('history <package>')
    .description('every release of a package on a channel and every change to it, newest first')
    .option('--channel <name>', 'channel (default: config channel)')
    .option('--limit <n>', 'only the newest N entries')
    .addHelpText('after', '\nExamples:\n  $ update-publish history maps\n  $ update-publish history maps --channel staging --json')
    .action(async (packageId: string, _flags, command: Command) => {
      const flags = command.optsWithGlobals<HistoryFlags>();
      const limit = flags.limit === undefined ? undefined : parseLimit(flags.limit);
      await withContext(session, flags, async (context) => {
        const channel = await context.channel(flags.channel);
        const entries = await readPackageHistory(context, { channel, packageId, limit });
        // One shape for every entry: from/to are null where the action has none (publish).
        const shaped = entries.map(({ at, actor, action, version, from, to, details, automatic }) => ({
          at,
          actor,
          action,
          version,
          from: from ?? null,
          to: to ?? null,
          details,
          // rollout tick's changes: the evidence is in details.evidence.
          ...(automatic && { automatic: true }),
        }));
        context.output.result({ channel, package: packageId, entries: shaped }, () => renderHistory(channel, packageId, entries));
      }, { configOptional: true });
    });
}

function parseLimit(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new UserError(`--limit '${value}' is not a positive whole number; give e.g. --limit 20`);
  return Number(value);
}

const change = (entry: HistoryEntry) => {
  if (entry.from === undefined && entry.to === undefined) return '-';
  const unit = entry.action === 'rollout' ? '%' : '';
  return `${entry.from ?? '(none)'}${unit} → ${entry.to ?? '(none)'}${unit}`;
};

function details({ action, automatic, details: { rolledBack, rules, files, current, message, commit, evidence } }: HistoryEntry): string {
  if (automatic && evidence && typeof evidence === 'object') {
    const { launches, failureRate } = evidence as { launches: number; failureRate: number | null };
    return `automatic (rollout tick): ${launches} launches, failure rate ${failureRate === null ? '–' : `${Number((failureRate * 100).toFixed(2))} %`}`;
  }
  if (action === 'base-add') return `base: in the app binary${typeof files === 'number' ? `, ${files} files` : ''}`;
  const provenance = describeProvenance({ message: message as string | undefined, commit: commit as string | undefined });
  const withProvenance = (text: string) => [text, provenance].filter(Boolean).join('; ');
  if (Array.isArray(rolledBack) && rolledBack.length) return `rolled back ${rolledBack.join(', ')}`;
  if (rules && typeof rules === 'object') {
    const { rollout, mandatory } = rules as ReleaseRules;
    return withProvenance(`rollout ${rollout}%${mandatory ? ', mandatory' : ''}`);
  }
  // edit: the rules and notes it left the release with.
  if (current && typeof current === 'object' && 'rules' in current) {
    const edited = current as { rules: ReleaseRules; message: string | null };
    return withProvenance(`${describeRules(edited.rules)}${edited.message ? `; notes: ${describeProvenance({ message: edited.message })}` : ''}`);
  }
  return provenance;
}

function renderHistory(channel: string, packageId: string, entries: HistoryEntry[]): string {
  const rows = entries.map((entry) => [
    entry.at.slice(0, 19).replace('T', ' '),
    escapeControls(entry.actor),
    entry.action,
    entry.version,
    change(entry),
    details(entry),
  ]);
  return `${packageId} on ${channel}\n${formatTable(['when', 'who', 'action', 'version', 'change', 'details'], rows)}`;
}
