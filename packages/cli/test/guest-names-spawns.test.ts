import { promises as fs } from "node:fs";
import path from "node:path";
import { rawRequest, rpcBody } from "@wm/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  eventually,
  makeWorkbench,
  sandboxedScriptConfig,
  type Workbench,
} from "./worktree-fixture.ts";

// The agent in `first`: asks the daemon (through the in-sandbox wm) for names carrying an OSC 52
// clipboard write, a bidi override, a CSI and a C1 CSI; sends a notification carrying OSC 52;
// then spawns clean agents until the spawn limit refuses one. After the host restarts the
// daemon and drops `.go-again` in the worktree, it tries once more. Every exit code and error
// lands in `.agent-result`. Agents in other worktrees idle.
const SCRIPT = [
  'out="$WM_WORKTREE/.agent-result"',
  'case "$WM_WORKTREE" in',
  "  *first)",
  `    wm add "$(printf 'a\\033]52;c;aGk=\\007b')" 2>>"$out"; echo "osc=$?" >> "$out"`,
  `    wm add "$(printf 'x\\342\\200\\256y')" 2>>"$out"; echo "bidi=$?" >> "$out"`,
  `    wm add --base "$(printf 'main\\033[2J')" based 2>>"$out"; echo "base=$?" >> "$out"`,
  `    wm merge --into "$(printf 'main\\302\\233')" 2>>"$out"; echo "into=$?" >> "$out"`,
  `    wm notify "$(printf 'look \\033]52;c;aGk=\\007 here')"; echo "notify=$?" >> "$out"`,
  '    wm add clean-one; echo "one=$?" >> "$out"',
  '    wm add clean-two; echo "two=$?" >> "$out"',
  '    wm add clean-three 2>>"$out"; echo "three=$?" >> "$out"',
  '    echo refused-once >> "$out"',
  '    while [ ! -e "$WM_WORKTREE/.go-again" ]; do sleep 0.2; done',
  '    while :; do wm add clean-four 2>>"$out"; r=$?; [ "$r" -ne 3 ] && break; sleep 0.2; done',
  '    echo "four=$r" >> "$out"',
  '    echo finished >> "$out"',
  "    ;;",
  "esac",
  "sleep 600",
].join("\n");

const ESC = "\x1b";
const OSC52 = "\x1b]52;c;aGk=\x07";
const SHOWN_OSC52 = "\\x1b]52;c;aGk=\\x07";

// Every run on Docker and on Podman (through its Docker-compatible API).
describe.each(["docker", "podman"] as const)("%s", (runtime) => {
  let wb: Workbench;
  beforeAll(async () => {
    wb = await makeWorkbench({
      global: sandboxedScriptConfig(SCRIPT, [
        "max_spawns: 2",
        "container:",
        `  runtime: ${runtime}`,
      ]),
      // A repository cannot raise its own agents' limit: this is ignored, with a warning.
      project: "sandbox:\n  max_spawns: 50\n",
    });
    await fs.appendFile(
      path.join(wb.repo, ".git", "info", "exclude"),
      ".agent-result\n.go-again\n",
    );
    const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
    expect(built.code, built.stderr).toBe(0);
  }, 320_000);

  afterAll(async () => {
    await wb.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
    await wb.cleanup();
  });

  const readResult = (file: string) => fs.readFile(file, "utf8").catch(() => "");

  interface Listed {
    id: string;
    worktree: string;
  }

  describe("names and spawns from inside a sandbox", () => {
    it("refuses control characters in names, neutralises them in output, and caps spawns per sandbox across a daemon restart", async () => {
      const added = await wb.wmJson<{ worktree: { path: string } }>(["add", "first"]);
      const first = added.worktree.path;
      const result = path.join(first, ".agent-result");
      const text = await eventually(
        async () => {
          const t = await readResult(result);
          return t.includes("refused-once") ? t : undefined;
        },
        "the agent to reach the spawn limit",
        90_000,
      );

      // Names with controls are refused at the guest API as invalid params, naming the parameter.
      expect(text).toContain("osc=1");
      expect(text).toMatch(/invalid params for "agent\.spawn": branch: .*U\+001B/);
      expect(text).toContain("bidi=1");
      expect(text).toMatch(/invalid params for "agent\.spawn": branch: .*U\+202E/);
      expect(text).toContain("base=1");
      expect(text).toMatch(/invalid params for "agent\.spawn": base: .*U\+001B/);
      expect(text).toContain("into=1");
      expect(text).toMatch(/invalid params for "agent\.merge": into: .*U\+009B/);
      // …and the refusal does not echo the raw name back to the agent's terminal either.
      expect(text).not.toContain(ESC);
      expect(text).not.toContain("\u202e");
      expect(text).toContain("notify=0");
      // Control: the same requests with clean names succeed (and the refused ones did not count).
      expect(text).toContain("one=0");
      expect(text).toContain("two=0");
      // The third spawn is past sandbox.max_spawns: 2 (the project file's 50 is ignored).
      expect(text).toContain("three=6");
      const globalFile = await fs.realpath(path.join(wb.home.configDir, "config.yaml"));
      expect(text).toContain("at most 2 agents (sandbox.max_spawns: 2)");
      expect(text).toContain(`raise sandbox.max_spawns in the global config, ${globalFile}`);
      const config = await wb.wmJson<{ warnings: Array<{ key?: string; message: string }> }>([
        "config",
      ]);
      expect(config.warnings.find((w) => w.key === "sandbox.max_spawns")?.message).toContain(
        "ignored in a project file",
      );

      const list = await wb.wmJson<{ worktrees: Array<{ handle: string }> }>(["list"]);
      expect(list.worktrees.map((w) => w.handle).sort()).toEqual([
        "clean-one",
        "clean-two",
        "first",
      ]);

      // The same refusal straight at the guest socket: a JSON-RPC InvalidParams error.
      const boxes = await wb.wmJson<{ sandboxes: Listed[] }>(["sandbox", "list"]);
      const own = boxes.sandboxes.find((s) => s.worktree === first) as Listed;
      const guestSocket = path.join(wb.home.runtimeDir, "sandboxes", own.id, "guest.sock");
      for (const [method, params, key] of [
        ["agent.spawn", { branch: `a${OSC52}b` }, "branch"],
        ["agent.spawn", { branch: "x\u202ey" }, "branch"],
        ["agent.merge", { name: "first\u009b2J" }, "name"],
      ] as const) {
        const res = (await rawRequest(guestSocket, { body: rpcBody(method, params) })).json() as {
          error?: { code: number; message: string };
        };
        expect(res.error?.code, JSON.stringify(params)).toBe(-32602);
        expect(res.error?.message).toContain(`${key}: not a usable name`);
        for (const raw of [ESC, "\u202e", "\u009b"]) expect(res.error?.message).not.toContain(raw);
      }

      // The count lives in the sandbox's record on disk.
      const recordFile = path.join(wb.home.stateDir, "sandboxes", `${own.id}.json`);
      expect(JSON.parse(await fs.readFile(recordFile, "utf8")).spawns).toBe(2);

      // The notification reached the daemon with its escape sequence (control)…
      const logged = (await fs.readFile(wb.home.logFile, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { msg?: string; message?: string })
        .find((r) => r.msg === "agent notification");
      expect(logged?.message).toBe(`look ${OSC52} here`);
      // …and every place the CLI shows it, or the names, holds no raw ESC.
      const logs = await wb.wm(["daemon", "logs", "-n", "2000"]);
      expect(logs.code, logs.stderr).toBe(0);
      expect(logs.stdout).toContain(`message=look ${SHOWN_OSC52} here`);
      expect(logs.stdout).not.toContain(ESC);
      expect(logs.stdout).not.toContain("\x07");
      const jsonLogs = await wb.wm(["daemon", "logs", "-n", "2000", "--json"]);
      expect(jsonLogs.stdout).toContain("agent notification");
      expect(jsonLogs.stdout).not.toContain(ESC);
      for (const args of [
        ["list"],
        ["status"],
        ["sandbox", "list"],
        ["dashboard", "--once"],
      ] as const) {
        const res = await wb.wm(args);
        expect(res.code, `${args.join(" ")}: ${res.stderr}`).toBe(0);
        expect(res.stdout, args.join(" ")).not.toContain(ESC);
      }

      // A restarted daemon keeps the count: the agent's next spawn is still refused.
      const restarted = await wb.wm(["daemon", "restart"]);
      expect(restarted.code, restarted.stderr).toBe(0);
      await fs.writeFile(path.join(first, ".go-again"), "");
      const after = await eventually(
        async () => {
          const t = await readResult(result);
          return t.includes("finished") ? t : undefined;
        },
        "the agent's attempt after the restart",
        60_000,
      );
      expect(after).toContain("four=6");
      expect(after?.match(/sandbox\.max_spawns: 2/g)).toHaveLength(2);
      const finalList = await wb.wmJson<{ worktrees: Array<{ handle: string }> }>(["list"]);
      expect(finalList.worktrees.map((w) => w.handle)).not.toContain("clean-four");
    }, 240_000);
  });
});
