import type { ChannelIndex } from '../protocol/types.js';
import type { ReleaseChange } from '../release/operations.js';
import { changeCurrentRelease, describeState } from '../workflows/change-release.js';
import { parsePackageTarget, withContext } from './context.js';
import { dryRunNote, noteHookFailures } from './render.js';
import type { Session } from './session.js';
import type { WriteFlags } from './write-options.js';

/**
 * rollout, halt and resume: one change to the package's current release.
 * JSON: { channel, package, version, previous: { state, rollout }, current: { state, rollout }, changed, dryRun, hooks }
 * (changed: false, exit 0, when the release already was as asked: nothing written, no hook run).
 */
export async function runCurrentReleaseChange(
  session: Session,
  flags: WriteFlags,
  target: string,
  action: 'rollout' | 'halt' | 'resume',
  change: (index: ChannelIndex, packageId: string, version: string | undefined) => ReleaseChange,
): Promise<void> {
  // maps@1.0.1: act on that release only while it is the one served.
  const { packageId, version } = parsePackageTarget(target);
  const apply = (index: ChannelIndex) => change(index, packageId, version);
  await withContext(session, flags, async (context) => {
    const channel = await context.channel(flags.channel);
    const document = await changeCurrentRelease(context, { channel, packageId, action, apply, hooks: flags.hooks });
    noteHookFailures(session, document.hooks);
    context.output.result(document, () =>
      document.unchanged
        ? document.unchanged
        : `${dryRunNote(context.dryRun)}${packageId} ${document.version} on ${channel}: ${describeState(document.previous)} → ${describeState(document.current)}`,
    );
  });
}
