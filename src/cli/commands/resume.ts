/**
 * `resume <pkg>`: serve a halted latest release again, with the rollout it
 * had (the same devices).
 *
 * JSON: { channel, package, version, previous: { state, rollout }, current: { state, rollout }, dryRun, hooks }
 */
import type { Command } from 'commander';
import { resume } from '../../release/operations.js';
import { runCurrentReleaseChange } from '../current-release-command.js';
import type { Session } from '../session.js';
import { addChannelOption, addWriteOptions, type WriteFlags } from '../write-options.js';

export function registerResume(program: Command, session: Session): void {
  addWriteOptions(addChannelOption(program.command('resume <package[@version]>')))
    .description('serve a halted release again, to the same devices as before; pkg@version acts only while that release is the one served')
    .addHelpText('after', '\nExamples:\n  $ update-publish resume maps\n  $ update-publish resume maps@1.0.2 --channel staging --yes --json')
    .action(async (target: string, _flags, command: Command) => {
      await runCurrentReleaseChange(session, command.optsWithGlobals<WriteFlags>(), target, 'resume', resume);
    });
}
