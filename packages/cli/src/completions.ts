import type { CommandSpec } from "./commands/spec.ts";
import { allOptions } from "./help.ts";

interface Node {
  path: string;
  words: string[];
  described: Array<[string, string]>;
}

function walk(cmd: CommandSpec, path: string[], out: Node[], isRoot: boolean): void {
  const described: Array<[string, string]> = [];
  for (const s of cmd.subcommands ?? []) described.push([s.name, s.summary]);
  for (const a of cmd.args ?? [])
    for (const c of a.choices ?? []) described.push([c, a.description]);
  const flags: string[] = [];
  for (const [name, o] of Object.entries(allOptions(cmd))) {
    flags.push(`--${name}`);
    if (o.short) flags.push(`-${o.short}`);
  }
  if (isRoot) flags.push("--version");
  out.push({ path: path.join(" "), words: [...described.map(([w]) => w), ...flags], described });
  for (const s of cmd.subcommands ?? []) walk(s, [...path, s.name], out, false);
}

function nodes(root: CommandSpec): Node[] {
  const out: Node[] = [];
  walk(root, [], out, true);
  return out;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;

export function bashCompletion(root: CommandSpec): string {
  const cases = nodes(root)
    .map((n) => `    ${shellQuote(n.path)}) opts=${shellQuote(n.words.join(" "))} ;;`)
    .join("\n");
  return `# bash completion for wm; load with: source <(wm completions bash)
_wm_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" i w opts=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    path="\${path:+$path }$w"
  done
  case "$path" in
${cases}
  esac
  mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
}
complete -F _wm_complete wm
`;
}

export function zshCompletion(root: CommandSpec): string {
  return `#compdef wm
# zsh completion for wm; load with: source <(wm completions zsh)
autoload -U +X bashcompinit && bashcompinit
${bashCompletion(root)}`;
}

export function fishCompletion(root: CommandSpec): string {
  const lines = [
    "# fish completion for wm; load with: wm completions fish | source",
    "function __wm_path",
    "    set -l words (commandline -opc)",
    "    set -e words[1]",
    "    string join ' ' (string match -v -- '-*' $words)",
    "end",
    "complete -c wm -f",
  ];
  for (const n of nodes(root)) {
    const cond = `test (__wm_path) = ${shellQuote(n.path)}`;
    for (const [word, desc] of n.described) {
      lines.push(
        `complete -c wm -n ${shellQuote(cond)} -a ${shellQuote(word)} -d ${shellQuote(desc)}`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
