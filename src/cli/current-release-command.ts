import type { ChannelIndex } from '../protocol/types.js';
import type { ReleaseChange } from '../release/operations.js';
import { changeCurrentRelease, describeState } from '../workflows/change-release.js';
import { requireChannel, withContext } from './context.js';
import { dryRunNote, noteHookFailures } from './render.js';
import type { Session } from './session.js';
import type { WriteFlags } from './write-options.js';

/**
 * rollout, halt and resume: one change to the package's current release.
 * JSON: { channel, package, version, previous: { state, rollout }, current: { state, rollout }, dryRun, hooks }
 */
export async function runCurrentReleaseChange(
  session: Session,
  flags: WriteFlags,
  packageId: string,
  action: 'rollout' | 'halt' | 'resume',
  apply: (index: ChannelIndex) => ReleaseChange,
): Promise<void> {
  await withContext(session, flags, async (context) => {
    const channel = requireChannel(flags.channel, context.config.channel);
    const document = await changeCurrentRelease(context, { channel, packageId, action, apply, hooks: flags.hooks });
    noteHookFailures(session, document.hooks);
    context.output.result(
      document,
      () => `${dryRunNote(context.dryRun)}${packageId} ${document.version} on ${channel}: ${describeState(document.previous)} → ${describeState(document.current)}`,
    );
  });
}
