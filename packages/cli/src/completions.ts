import { KNOWN_AGENTS } from "../../daemon/src/images/agents.ts";
import type { ArgSpec, CommandTree, OptionSpec } from "./commands/spec.ts";
import { allOptions } from "./help.ts";

/**
 * Shell completion scripts, generated from the command table: every command, subcommand,
 * option and choice there is offered. Two things come from elsewhere: worktree names (for an
 * argument described as a "worktree name"), which the scripts ask `wm completions
 * --worktrees` for (it never starts the daemon), and agent names (for an option named
 * `agent`), the known agents.
 */

/** How the value of an option, or a positional argument, is completed. */
type Values =
  | { kind: "none" }
  | { kind: "words"; words: readonly string[] }
  | { kind: "worktrees" }
  | { kind: "files" };

interface Opt {
  long: string;
  short?: string;
  description: string;
  /** Takes a value (`--base REF`). */
  value?: { name: string; values: Values };
}

interface Node {
  /** Subcommand names from the root, "" for the root. */
  path: string;
  subs: Array<[string, string]>;
  opts: Opt[];
  /** What positional arguments complete to (all of them alike). */
  args: Values;
  argName: string;
  hasArgs: boolean;
}

const WORKTREE_ARG = /\bworktree names?\b/i;

function argValues(args: readonly ArgSpec[]): Values {
  const words = args.flatMap((a) => a.choices ?? []);
  if (words.length > 0) return { kind: "words", words };
  if (args.some((a) => WORKTREE_ARG.test(a.description))) return { kind: "worktrees" };
  return { kind: "none" };
}

function optionValues(name: string, o: OptionSpec): Values {
  if (o.choices) return { kind: "words", words: o.choices };
  if (name === "agent") return { kind: "words", words: KNOWN_AGENTS };
  if (/^(FILE|PATH|DIR)$/.test(o.valueName ?? "")) return { kind: "files" };
  return { kind: "none" };
}

function walk(cmd: CommandTree, path: string[], out: Node[], isRoot: boolean): void {
  const opts: Opt[] = Object.entries(allOptions(cmd)).map(([name, o]) => ({
    long: name,
    ...(o.short ? { short: o.short } : {}),
    description: o.description,
    ...(o.type === "string"
      ? { value: { name: o.valueName ?? "VALUE", values: optionValues(name, o) } }
      : {}),
  }));
  if (isRoot) opts.push({ long: "version", short: "V", description: "print the version" });
  out.push({
    path: path.join(" "),
    subs: (cmd.subcommands ?? []).flatMap(
      (s): Array<[string, string]> => [
        [s.name, s.summary],
        ...(s.aliases ?? []).map((alias): [string, string] => [
          alias,
          `${s.summary} (= ${s.name})`,
        ]),
      ],
    ),
    opts,
    args: argValues(cmd.args ?? []),
    argName: (cmd.args ?? [])[0]?.name ?? "argument",
    hasArgs: (cmd.args ?? []).length > 0,
  });
  for (const s of cmd.subcommands ?? [])
    for (const word of [s.name, ...(s.aliases ?? [])]) walk(s, [...path, word], out, false);
}

function nodes(root: CommandTree): Node[] {
  const out: Node[] = [];
  walk(root, [], out, true);
  return out;
}

const shellQuote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
const flagsOf = (o: Opt) => [`--${o.long}`, ...(o.short ? [`-${o.short}`] : [])];

// ---------------------------------------------------------------------------------------- bash

export function bashCompletion(root: CommandTree): string {
  const all = nodes(root);
  const nodeCases = all
    .map((n) => {
      const words = [...n.subs.map(([s]) => s), ...(n.args.kind === "words" ? n.args.words : [])];
      return [
        `    ${shellQuote(n.path)})`,
        `      subs=${shellQuote(n.subs.map(([s]) => s).join(" "))}`,
        `      words=${shellQuote(words.join(" "))}`,
        `      flags=${shellQuote(n.opts.flatMap(flagsOf).join(" "))}`,
        `      valued=${shellQuote(
          n.opts
            .filter((o) => o.value)
            .flatMap(flagsOf)
            .join(" "),
        )}`,
        `      worktrees=${n.args.kind === "worktrees" ? 1 : 0}`,
        "      ;;",
      ].join("\n");
    })
    .join("\n");
  const valueCases = all
    .flatMap((n) =>
      n.opts.flatMap((o) => {
        const v = o.value?.values;
        if (!v) return [];
        const body =
          v.kind === "words"
            ? `COMPREPLY=($(compgen -W ${shellQuote(v.words.join(" "))} -- "$cur"))`
            : v.kind === "files"
              ? `COMPREPLY=($(compgen -f -- "$cur"))`
              : "COMPREPLY=()";
        return flagsOf(o).map((f) => `    ${shellQuote(`${n.path}|${f}`)}) ${body} ;;`);
      }),
    )
    .join("\n");
  return `# bash completion for wm; load with: source <(wm completions bash)
_wm_node() {
  subs="" words="" flags="" valued="" worktrees=0
  case "$1" in
${nodeCases}
  esac
}
_wm_complete() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" i w skip=0
  local subs words flags valued worktrees
  _wm_node ""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; prev=""; continue; fi
    if [[ "$w" == -* ]]; then
      [[ " $valued " == *" $w "* ]] && skip=1 && prev="$w"
      continue
    fi
    if [[ " $subs " == *" $w "* ]]; then
      path="\${path:+$path }$w"
      _wm_node "$path"
    fi
  done
  COMPREPLY=()
  if ((skip)); then
    case "$path|$prev" in
${valueCases}
    esac
    return 0
  fi
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$flags" -- "$cur"))
    return 0
  fi
  if [[ "$worktrees" == 1 ]]; then
    words="$words $(command wm completions --worktrees 2>/dev/null)"
  fi
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _wm_complete wm
`;
}

// ----------------------------------------------------------------------------------------- zsh

/** Text inside `_arguments`' `[…]` and after `:`. */
const zshDesc = (s: string) => s.replace(/[\\[\]:]/g, (c) => `\\${c}`);

function zshAction(v: Values): string {
  switch (v.kind) {
    case "words":
      return `(${v.words.join(" ")})`;
    case "worktrees":
      return "_wm_worktrees";
    case "files":
      return "_files";
    default:
      return " ";
  }
}

function zshOptionSpecs(n: Node): string[] {
  return n.opts.map((o) => {
    const flags = flagsOf(o);
    const excl = flags.length > 1 ? `(${flags.join(" ")})` : "";
    const names = flags.length > 1 ? `{${flags.join(",")}}` : flags[0];
    const value = o.value ? `:${zshDesc(o.value.name)}:${zshAction(o.value.values)}` : "";
    return `${shellQuote(excl)}${names}${shellQuote(`[${zshDesc(o.description)}]${value}`)}`;
  });
}

const zshFn = (path: string) => `_wm${path ? `__${path.replaceAll(/[^A-Za-z0-9]/g, "_")}` : ""}`;

export function zshCompletion(root: CommandTree): string {
  const fns = nodes(root).map((n) => {
    const opts = zshOptionSpecs(n).map((s) => `    ${s} \\`);
    if (n.subs.length > 0) {
      const subs = n.subs.map(([s, d]) => `    ${shellQuote(`${s}:${d}`)}`);
      const cases = n.subs.map(
        ([s]) => `        ${shellQuote(s)}) ${zshFn(n.path ? `${n.path} ${s}` : s)} ;;`,
      );
      return [
        `${zshFn(n.path)}() {`,
        "  local curcontext=$curcontext state state_descr line ret=1",
        "  typeset -A opt_args",
        "  _arguments -C \\",
        ...opts,
        "    '1: :->command' \\",
        "    '*:: :->args' && ret=0",
        "  case $state in",
        "    command)",
        "      local -a subs; subs=(",
        ...subs.map((s) => `    ${s}`),
        "      )",
        `      _describe -t commands ${shellQuote(`${["wm", n.path].filter(Boolean).join(" ")} command`)} subs && ret=0`,
        "      ;;",
        "    args)",
        "      case $line[1] in",
        ...cases,
        "      esac",
        "      ;;",
        "  esac",
        "  return ret",
        "}",
      ].join("\n");
    }
    const argSpec = n.hasArgs ? shellQuote(`*:${zshDesc(n.argName)}:${zshAction(n.args)}`) : "";
    return [`${zshFn(n.path)}() {`, "  _arguments -s \\", ...opts, `    ${argSpec}`, "}"].join(
      "\n",
    );
  });
  return `#compdef wm
# zsh completion for wm. Load it after compinit: source <(wm completions zsh)
# or save it as _wm in a directory on $fpath.
_wm_worktrees() {
  local -a names
  names=(\${(f)"$(command wm completions --worktrees 2>/dev/null)"})
  _describe -t worktrees 'worktree' names
}
${fns.join("\n")}
if [ "$funcstack[1]" = "_wm" ]; then
  _wm "$@"
else
  compdef _wm wm
fi
`;
}

// ---------------------------------------------------------------------------------------- fish

export function fishCompletion(root: CommandTree): string {
  const all = nodes(root);
  const switchOf = (fn: string, pick: (n: Node) => string[]) => [
    `function ${fn}`,
    '    switch "$argv[1]"',
    ...all.flatMap((n) => {
      const words = pick(n);
      return words.length > 0
        ? [
            `        case ${shellQuote(n.path)}`,
            `            printf '%s\\n' ${words.map(shellQuote).join(" ")}`,
          ]
        : [];
    }),
    "    end",
    "end",
  ];
  const lines = [
    "# fish completion for wm; load with: wm completions fish | source",
    ...switchOf("__wm_subs", (n) => n.subs.map(([s]) => s)),
    ...switchOf("__wm_valued", (n) => n.opts.filter((o) => o.value).flatMap(flagsOf)),
    "# The subcommand path of the command line, e.g. 'sandbox run'.",
    "function __wm_path",
    "    set -l path ''",
    "    set -l skip 0",
    "    for w in (commandline -opc)[2..-1]",
    "        if test $skip = 1",
    "            set skip 0",
    "            continue",
    "        end",
    "        if string match -q -- '-*' $w",
    '            contains -- $w (__wm_valued "$path"); and set skip 1',
    "            continue",
    "        end",
    '        if contains -- $w (__wm_subs "$path")',
    '            set path (string trim -- "$path $w")',
    "        end",
    "    end",
    "    printf '%s\\n' \"$path\"",
    "end",
    "function __wm_at",
    '    test "$(__wm_path)" = "$argv[1]"',
    "end",
    "complete -c wm -f",
  ];
  for (const n of all) {
    const cond = n.path === "" ? "__fish_use_subcommand" : `__wm_at ${shellQuote(n.path)}`;
    const at = `-n ${shellQuote(cond)}`;
    for (const [word, desc] of n.subs) {
      lines.push(`complete -c wm ${at} -a ${shellQuote(word)} -d ${shellQuote(desc)}`);
    }
    if (n.args.kind === "words") {
      lines.push(`complete -c wm ${at} -a ${shellQuote(n.args.words.join(" "))}`);
    } else if (n.args.kind === "worktrees") {
      lines.push(`complete -c wm ${at} -a '(command wm completions --worktrees 2>/dev/null)'`);
    }
    for (const o of n.opts) {
      const flags = `${o.short ? `-s ${o.short} ` : ""}-l ${o.long}`;
      const v = o.value?.values;
      const value =
        v === undefined
          ? ""
          : v.kind === "words"
            ? ` -x -a ${shellQuote(v.words.join(" "))}`
            : v.kind === "files"
              ? " -r -F"
              : " -x";
      lines.push(`complete -c wm ${at} ${flags}${value} -d ${shellQuote(o.description)}`);
    }
  }
  return `${lines.join("\n")}\n`;
}
