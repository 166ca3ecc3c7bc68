import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  failInCiWithoutVmTools,
  missingVmTools,
} from "../../daemon/src/backends/qemu/vm-tools.test-support.ts";
import {
  eventually,
  makeWorkbench,
  sandboxedScriptConfig,
  type Workbench,
} from "./worktree-fixture.ts";

// The agent: in the first worktree it commits, reports done, asks the daemon (through the
// in-sandbox wm) to spawn another agent, tries to merge a worktree that is not its own, then
// merges its own. Results land in a file of its worktree. In any other worktree it just idles.
const SCRIPT = [
  'out="$WM_WORKTREE/.agent-result"',
  'case "$WM_WORKTREE" in',
  "  *first)",
  "    echo from-agent > agent.txt && git add agent.txt && git commit -q -m 'agent commit'",
  "    wm status set done",
  '    wm add second -p "keep going"; echo "spawn=$?" >> "$out"',
  '    wm merge main 2>>"$out"; echo "other=$?" >> "$out"',
  '    wm merge 2>>"$out"; echo "merge=$?" >> "$out"',
  '    echo finished >> "$out"',
  "    ;;",
  "esac",
  "sleep 30",
].join("\n");

failInCiWithoutVmTools();

/** The same workflow with container sandboxes and with sessions in the project's VM. */
const BACKENDS = [
  { backend: "container", lines: [] as string[], env: {}, agentMs: 60_000 },
  ...(missingVmTools.length === 0
    ? [
        {
          backend: "vm",
          lines: ["backend: vm", "lima:", "  cpus: 2", "  memory: 1GiB", "  disk: 8GiB"],
          env: { XDG_CACHE_HOME: path.join(os.homedir(), ".cache"), WM_VM_IDLE_SECONDS: "0" },
          // The first agent boots the VM.
          agentMs: 400_000,
        },
      ]
    : []),
];

describe.each(BACKENDS)(
  "the workflow with sandboxed agents ($backend)",
  ({ backend, lines, env, agentMs }) => {
    let wb: Workbench;
    beforeAll(async () => {
      wb = await makeWorkbench({
        global: sandboxedScriptConfig(SCRIPT, lines),
        env,
      });
      await fs.appendFile(path.join(wb.repo, ".git", "info", "exclude"), ".agent-result\n");
      const built = await wb.wm(["sandbox", "build", "--agent", "demo"], { timeoutMs: 300_000 });
      expect(built.code, built.stderr).toBe(0);
    }, 320_000);

    afterAll(async () => {
      await wb.wm(["sandbox", "stop", "--all"]).catch(() => undefined);
      if (backend === "vm") {
        const listed = await wb.wmJson<{ vms: { name: string }[] }>(["sandbox", "list"]);
        const names = listed.vms.map((v) => v.name);
        if (names.length > 0)
          await wb.wm(["sandbox", "stop", "--vm", "--rm", ...names], { timeoutMs: 120_000 });
      }
      await wb.cleanup();
    }, 180_000);

    it(
      "add runs the agent in a sandbox; it spawns a sandboxed sibling and merges only its own worktree",
      async () => {
        const added = await wb.wmJson<{ worktree: { path: string; sandbox: boolean } }>([
          "add",
          "first",
        ]);
        expect(added.worktree.sandbox).toBe(true);
        const first = added.worktree.path;
        const result = path.join(first, ".agent-result");
        const text = await eventually(
          async () => {
            const t = await fs.readFile(result, "utf8").catch(() => "");
            return t.includes("finished") ? t : undefined;
          },
          "the agent to finish",
          agentMs,
        );
        expect(text).toContain("spawn=0");
        expect(text).toContain("a sandbox may merge only its own worktree");
        expect(text).toContain("other=6");
        expect(text).toContain("merge=0");
        expect(wb.git(wb.repo, "log", "--format=%s", "-1", "main")).toBe("agent commit");

        const list = await wb.wmJson<{
          worktrees: Array<{ handle: string; sandbox: boolean; path: string }>;
        }>(["list"]);
        const second = list.worktrees.find((w) => w.handle === "second");
        expect(second?.sandbox).toBe(true);
        // The spawned agent's prompt: in its worktree's git admin dir, outside the worktree.
        const prompt = await fs.readFile(
          path.join(wb.repo, ".git", "worktrees", "second", "wm-prompt.md"),
          "utf8",
        );
        expect(prompt).toBe("keep going\n");
        await eventually(
          () => wb.windows().some((w) => w.worktree === second?.path),
          "the spawned agent's window",
        );
        const sandboxes = await wb.wmJson<{
          sandboxes: Array<{ worktree: string; state: string }>;
        }>(["sandbox", "list"]);
        expect(sandboxes.sandboxes.map((s) => s.worktree).sort()).toEqual(
          [first, second?.path].sort(),
        );
        const firstWindow = wb.windows().find((w) => w.worktree === first);
        expect(firstWindow?.status).toBe("done");

        // Closing a window stops its sandbox; removing a worktree does too.
        const closed = await wb.wm(["close", "second"]);
        expect(closed.code, closed.stderr).toBe(0);
        const afterClose = await wb.wmJson<{ sandboxes: Array<{ worktree: string }> }>([
          "sandbox",
          "list",
        ]);
        expect(afterClose.sandboxes.map((s) => s.worktree)).toEqual([first]);
        const removed = await wb.wm(["rm", "first", "-f"]);
        expect(removed.code, removed.stderr).toBe(0);
        const afterRm = await wb.wmJson<{ sandboxes: unknown[] }>(["sandbox", "list"]);
        expect(afterRm.sandboxes).toEqual([]);
      },
      agentMs + 120_000,
    );
  },
);
