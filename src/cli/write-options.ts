import type { Command } from 'commander';
import type { GlobalOptions } from './context.js';

/** Flags of every command that changes a channel index. */
export interface WriteFlags extends GlobalOptions {
  channel?: string;
  hooks: boolean;
}

export function addWriteOptions(command: Command): Command {
  return command
    .option('--dry-run', 'show what would change, write nothing')
    .option('-y, --yes', 'do not ask for confirmation')
    .option('--no-hooks', 'do not run post-release hooks');
}

export const addChannelOption = (command: Command) => command.option('--channel <name>', 'channel to change (default: config channel)');
