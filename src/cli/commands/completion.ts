/**
 * `completion bash|zsh|fish`: a shell completion script for every command,
 * subcommand and flag, read from the program itself (so it never lags behind).
 *   bash: eval "$(npx update-publish completion bash)"   (or save it under bash-completion's completions/)
 * The scripts complete both `update-publish …` (on PATH) and `npx update-publish …` (a devDependency).
 *   zsh:  eval "$(update-publish completion zsh)"
 *   fish: update-publish completion fish > ~/.config/fish/completions/update-publish.fish
 */
import { Argument, type Command } from 'commander';
import type { Session } from '../session.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

interface Entry {
  /** `publish`, or `whitelist upload`. */
  path: string[];
  flags: string[];
}

export function registerCompletion(program: Command, session: Session): void {
  program
    .command('completion')
    .description('print a shell completion script (bash, zsh or fish)')
    .addArgument(new Argument('<shell>', 'the shell').choices(SHELLS))
    .addHelpText(
      'after',
      '\nExamples:\n  $ eval "$(update-publish completion bash)"     # in ~/.bashrc\n  $ eval "$(update-publish completion zsh)"      # in ~/.zshrc\n  $ update-publish completion fish > ~/.config/fish/completions/update-publish.fish',
    )
    .action((shell: Shell) => {
      const entries = commandEntries(program);
      session.io.stdout.write(shell === 'fish' ? fishScript(entries) : bashScript(entries, shell === 'zsh'));
    });
}

/** Every command and subcommand with its flags (global ones included), help aside. */
function commandEntries(program: Command): Entry[] {
  const flagsOf = (command: Command) => [...new Set(command.options.filter((option) => !option.hidden || option.long).map((option) => option.long!).filter(Boolean))];
  const entries: Entry[] = [];
  const visit = (command: Command, path: string[]) => {
    for (const child of command.commands) {
      if (child.name() === 'help') continue;
      entries.push({ path: [...path, child.name()], flags: [...flagsOf(child), '--help'] });
      visit(child, [...path, child.name()]);
    }
  };
  visit(program, []);
  return entries;
}

const words = (items: string[]) => items.join(' ');

function bashScript(entries: Entry[], zsh: boolean): string {
  const top = entries.filter((entry) => entry.path.length === 1);
  const cases = entries.map((entry) => {
    const children = entries.filter((other) => other.path.length === entry.path.length + 1 && other.path.join(' ').startsWith(`${entry.path.join(' ')} `));
    const words_ = children.length ? children.map((child) => child.path.at(-1)!) : entry.flags;
    return `    '${entry.path.join(' ')}') words='${words(words_)}' ;;`;
  });
  return `${zsh ? 'autoload -U +X bashcompinit && bashcompinit\n' : ''}# update-publish completion (${zsh ? 'zsh, through bashcompinit' : 'bash'})
_update_publish() {
  # _UP_START: where update-publish stands in the words (0, or after npx and its flags).
  local start="\${_UP_START:-0}" cur="\${COMP_WORDS[COMP_CWORD]}" path="" next words="" i
  local known='|${entries.map((entry) => entry.path.join(' ')).join('|')}|'
  # The command path is the words that name commands; flags and their values are skipped.
  for ((i = start + 1; i < COMP_CWORD; i++)); do
    next="\${path:+$path }\${COMP_WORDS[i]}"
    [[ $known == *"|$next|"* ]] && path="$next"
  done
  case "$path" in
    '') words='${words(top.map((entry) => entry.path[0]))}' ;;
${cases.join('\n')}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -o default -F _update_publish update-publish
# The same after \`npx update-publish\` (a devDependency is not on PATH): npx completes to update-publish.
_update_publish_npx() {
  local i
  for ((i = 1; i < COMP_CWORD; i++)); do
    if [[ \${COMP_WORDS[i]} == update-publish ]]; then
      _UP_START=$i _update_publish
      return
    fi
  done
  COMPREPLY=($(compgen -W "update-publish" -- "\${COMP_WORDS[COMP_CWORD]}"))
}
complete -o default -F _update_publish_npx npx
`;
}

function fishScript(entries: Entry[]): string {
  const lines = ['# update-publish completion (fish)', 'complete -c update-publish -f'];
  const top = entries.filter((entry) => entry.path.length === 1);
  lines.push(`complete -c update-publish -n '__fish_use_subcommand' -a '${words(top.map((entry) => entry.path[0]))}'`);
  for (const entry of entries) {
    const seen = entry.path.map((name) => `__fish_seen_subcommand_from ${name}`).join('; and ');
    const children = entries.filter((other) => other.path.length === entry.path.length + 1 && other.path.join(' ').startsWith(`${entry.path.join(' ')} `));
    if (children.length) lines.push(`complete -c update-publish -n '${seen}' -a '${words(children.map((child) => child.path.at(-1)!))}'`);
    for (const flag of entry.flags) lines.push(`complete -c update-publish -n '${seen}' -l ${flag.slice(2)}`);
  }
  // After `npx update-publish`: the same completions, once update-publish is on the line.
  const topNames = words(top.map((entry) => entry.path[0]));
  const npxLines = [
    `complete -c npx -n '__fish_use_subcommand' -a 'update-publish'`,
    `complete -c npx -n '__fish_seen_subcommand_from update-publish; and not __fish_seen_subcommand_from ${topNames}' -f -a '${topNames}'`,
    ...lines
      .filter((line) => line.startsWith("complete -c update-publish -n '__fish_seen_subcommand_from"))
      .map((line) => line.replace("complete -c update-publish -n '", "complete -c npx -n '__fish_seen_subcommand_from update-publish; and ")),
  ];
  return `${[...lines, ...npxLines].join('\n')}\n`;
}
