import { Option, type Command } from 'commander';

const GLOBAL_OPTIONS: [flags: string, description: string][] = [
  ['-c, --config <path>', 'config file (default: searched from the current folder)'],
  ['--store <url>', 'override the config store: a folder path or s3://bucket/prefix'],
  ['--json', 'print one JSON document on stdout; logs go to stderr; never prompts'],
  ['-q, --quiet', 'print only errors and the result'],
  ['--debug', 'show stack traces and SDK details on errors'],
  ['--allow-unsigned', 'let a config without "signing" write unsigned documents into a signed store (devices trusting its key refuse them)'],
];

/** The global options' names that take a value (`--store <url>`): what follows them is no command name. */
export const GLOBAL_OPTIONS_WITH_VALUE = new Set(
  GLOBAL_OPTIONS.filter(([flags]) => flags.includes('<')).flatMap(([flags]) => flags.split(/[ ,]+/).filter((part) => part.startsWith('-'))),
);

/**
 * Options every command takes, before or after its name. The program's
 * options are positional (so `publish --version 2.0.0` reaches publish instead
 * of printing the program version), hence every command declares them again,
 * hidden: help lists them once, under "Global Options".
 */
export function addGlobalOptions(program: Command): void {
  const declare = (command: Command, hidden: boolean) => {
    for (const [flags, description] of GLOBAL_OPTIONS) {
      const option = new Option(flags, description).hideHelp(hidden);
      if (!command.options.some((existing) => existing.long === option.long)) command.addOption(option);
    }
    for (const subcommand of command.commands) declare(subcommand, true);
  };
  declare(program, false);
}
