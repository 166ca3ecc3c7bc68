import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { makeTempHome, runWm, WM_BIN } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkbench, type Workbench } from "./worktree-fixture.ts";

/**
 * The scripts of `wm completions` loaded into real bash, zsh and fish, each asked for
 * candidates by its own completion engine: bash through the function `complete -F` names,
 * zsh through an interactive zsh driven with TAB on a pseudo-terminal (compadd records what
 * it is given), fish through `complete -C`.
 */

type Shell = "bash" | "zsh" | "fish";

// Prints every match zsh's completion system adds for the line $2, between markers.
const ZSH_DRIVER = String.raw`
zmodload zsh/zpty || exit 2
zpty z zsh -f -i
zpty -w z "PS1='' RPS1='' PROMPT_EOL_MARK=''; bindkey '^I' complete-word"
zpty -w z "autoload -U compinit && compinit -u -D"
zpty -w z "source ${"$"}{(q)1}"
zpty -w z 'compadd() { if [[ ${"$"}{@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi; local -a hits; builtin compadd -A hits "$@"; local r=$?; (( $#hits )) && print -rn -- "<<H>>"${"$"}{^hits}"<</H>>" >/dev/tty; return r; }'
zpty -w z '_wm_test_done() { print -rn -- "<<DONE>>" >/dev/tty; exit 0; }; comppostfuncs=(_wm_test_done)'
zpty -w z 'print -rn -- "<<READY"">>"'
zpty -r z junk '*<<READY>>*' || exit 3
zpty -w -n z "$2"$'\t'
zpty -r z out '*<<DONE>>*' || exit 4
print -r -- "$out"
zpty -d z
`;

let bench: Workbench;
let dir: string;
let env: NodeJS.ProcessEnv;
const scripts: Partial<Record<Shell, string>> = {};

function requireShell(shell: Shell): void {
  try {
    execFileSync("sh", ["-c", `command -v ${shell}`], { stdio: "ignore" });
  } catch {
    throw new Error(
      `${shell} is not installed; these tests drive the real shell: run scripts/install-deps.sh`,
    );
  }
}

/** What `shell` offers when TAB is pressed at the end of `line` (run in the test repo). */
function complete(shell: Shell, line: string): string[] {
  requireShell(shell);
  const script = scripts[shell] as string;
  const opts = { cwd: bench.repo, env, encoding: "utf8" as const, timeout: 30_000 };
  if (shell === "fish") {
    const out = execFileSync(
      "fish",
      ["--no-config", "-c", 'source $argv[1]; complete -C "$argv[2]"', script, line],
      opts,
    );
    return out
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("\t")[0] as string);
  }
  if (shell === "bash") {
    const out = execFileSync(
      "bash",
      [
        "--norc",
        "--noprofile",
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: bash, not a template
        'source "$1"; read -ra COMP_WORDS <<<"$2"; [[ "$2" == *" " ]] && COMP_WORDS+=(""); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_LINE="$2"; COMP_POINT=${#2}; _wm_complete; printf "%s\\n" "${COMPREPLY[@]}"',
        "bash",
        script,
        line,
      ],
      opts,
    );
    return out.split("\n").filter(Boolean);
  }
  const out = execFileSync("zsh", ["-f", path.join(dir, "drive.zsh"), script, line], opts);
  return [...out.matchAll(/<<H>>(.*?)<<\/H>>/g)].map((m) => m[1] as string);
}

beforeAll(async () => {
  bench = await makeWorkbench();
  dir = path.join(bench.home.root, "completions");
  await fs.mkdir(path.join(dir, "bin"), { recursive: true });
  // `wm` on PATH as a user has it: the built CLI.
  const wm = path.join(dir, "bin", "wm");
  await fs.writeFile(
    wm,
    `#!/bin/sh\nexec ${JSON.stringify(process.execPath)} ${JSON.stringify(WM_BIN)} "$@"\n`,
  );
  await fs.chmod(wm, 0o755);
  env = { ...bench.env, PATH: `${path.join(dir, "bin")}:${bench.env.PATH}` };
  await fs.writeFile(path.join(dir, "drive.zsh"), ZSH_DRIVER);
  for (const shell of ["bash", "zsh", "fish"] as const) {
    const res = await runWm(["completions", shell], { env: bench.env });
    expect(res.code, res.stderr).toBe(0);
    scripts[shell] = path.join(dir, `wm.${shell}`);
    await fs.writeFile(scripts[shell] as string, res.stdout);
  }
  for (const name of ["alpha-wt", "beta-wt"]) {
    const res = await bench.wm(["add", name, "-b"]);
    expect(res.code, res.stderr).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await bench?.cleanup();
});

describe.each(["bash", "zsh", "fish"] as const)("wm completions in a real %s", (shell) => {
  it("offers the top-level commands", () => {
    const got = complete(shell, "wm ");
    expect(got).toEqual(expect.arrayContaining(["add", "list", "open", "rm", "sandbox", "daemon"]));
    expect(got).not.toContain("--base");
  });

  it("offers a subcommand's subcommands, and a command's options", () => {
    expect(complete(shell, "wm sandbox ")).toEqual(
      expect.arrayContaining(["run", "list", "stop", "build"]),
    );
    expect(complete(shell, "wm add --")).toEqual(
      expect.arrayContaining(["--base", "--agent", "--background", "--prompt-file", "--help"]),
    );
    expect(complete(shell, "wm completions ")).toEqual(
      expect.arrayContaining(["bash", "zsh", "fish"]),
    );
  });

  it("offers the known agents after --agent", () => {
    expect([...complete(shell, "wm add x --agent ")].sort()).toEqual(["claude", "demo", "none"]);
    expect(complete(shell, "wm add -b --agent d")).toEqual(["demo"]);
  });

  it("offers the worktree names the running daemon knows", () => {
    expect(complete(shell, "wm open ")).toEqual(expect.arrayContaining(["alpha-wt", "beta-wt"]));
    expect(complete(shell, "wm rm al")).toEqual(["alpha-wt"]);
  });
});

describe("wm completions --worktrees", () => {
  it("prints the worktree names, and nothing without starting a daemon when none runs", async () => {
    const res = await bench.wm(["completions", "--worktrees"]);
    expect(res.code, res.stderr).toBe(0);
    expect(res.stdout.split("\n")).toEqual(expect.arrayContaining(["alpha-wt", "beta-wt"]));

    const empty = await makeTempHome();
    try {
      const other = await runWm(["completions", "--worktrees"], {
        env: empty.env,
        cwd: bench.repo,
      });
      expect(other.code, other.stderr).toBe(0);
      expect(other.stdout).toBe("");
      await expect(fs.access(empty.socketPath)).rejects.toThrow();
      await expect(fs.access(empty.registrationFile)).rejects.toThrow();
    } finally {
      await empty.cleanup();
    }
  });
});
