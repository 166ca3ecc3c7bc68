import { existsSync } from "node:fs";
import { chown, mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSafeGit } from "../src/git/safe-git.ts";
import { GitLayoutError, gitLayoutMounts, recordWorktree } from "../src/sandbox/git-layout.ts";
import {
  AGENT_UID,
  type LayoutFixture,
  makeLayoutFixture,
  removeFixture,
  removeTestContainers,
  type Sandbox,
  startSandbox,
} from "./git-layout-fixture.ts";

/** Every container test runs on Docker and on Podman (through its Docker-compatible API). */
const engines = {
  docker: new Docker(),
  podman: new Docker({
    socketPath: (process.env.WM_PODMAN_SOCKET ?? "/run/podman/podman.sock").replace(
      /^unix:\/\//,
      "",
    ),
  }),
};
const fixtures: LayoutFixture[] = [];

async function fixture(): Promise<LayoutFixture> {
  const f = await makeLayoutFixture();
  fixtures.push(f);
  return f;
}

afterAll(async () => {
  await Promise.all(Object.values(engines).map(removeTestContainers));
  await Promise.all(fixtures.map(removeFixture));
});

const EROFS = /Read-only file system/;

/** What a hostile agent plants to get code run by host-side git; each entry must fail under wm. */
function plantings(f: LayoutFixture): Record<string, string> {
  const common = f.record.commonDir;
  const admin = f.record.adminDir;
  const hook = (name: string) =>
    `printf '#!/bin/sh\\ntouch ${f.markers}/${name}\\n' > ${common}/hooks/${name} && chmod +x ${common}/hooks/${name}`;
  return {
    "core.fsmonitor via git config": `git --git-dir=${common} config core.fsmonitor ${f.worktree}/fsmonitor.sh`,
    "appending to config": `printf '[alias]\\n\\tst = !touch ${f.markers}/alias\\n' >> ${common}/config`,
    "hooks/pre-commit": hook("pre-commit"),
    "hooks/post-checkout": hook("post-checkout"),
    "info/attributes": `echo '* filter=evil' > ${common}/info/attributes`,
    "the worktree's .git pointer": `echo 'gitdir: /tmp/elsewhere' > ${f.worktree}/.git`,
    "the admin dir's commondir": `echo ${f.worktree}/.evil > ${admin}/commondir`,
    "the admin dir's gitdir": `echo /tmp/elsewhere/.git > ${admin}/gitdir`,
  };
}

const FSMONITOR_SCRIPT = (f: LayoutFixture) =>
  `printf '#!/bin/sh\\ntouch ${f.markers}/fsmonitor\\n' > fsmonitor.sh && chmod +x fsmonitor.sh`;

/** Host-side git in the main worktree, as the user: status, commit and checkout. */
async function useMainWorktree(f: LayoutFixture): Promise<void> {
  for (const args of [
    ["status", "--porcelain"],
    ["commit", "-q", "--allow-empty", "-m", "host"],
    ["checkout", "-q", "-b", "host-branch"],
  ]) {
    const res = await f.hostGit(f.main, args);
    expect(res.code, `${args.join(" ")}: ${res.stderr}`).toBe(0);
  }
}

const fired = (f: LayoutFixture, name: string) => existsSync(path.join(f.markers, name));

describe.each(["docker", "podman"] as const)("%s", (runtime) => {
  const docker = engines[runtime];

  describe("git metadata layout in a real container", () => {
    let wm: LayoutFixture;
    let box: Sandbox;

    beforeAll(async () => {
      await removeTestContainers(docker);
      wm = await fixture();
      box = await startSandbox(docker, wm.mounts, wm.worktree);
    });

    it("lets the agent use git normally; commits and file ownership show on the host", async () => {
      const res = await box.sh(
        "set -e; echo hello > new.txt; git status --porcelain; git add new.txt; git commit -qm agent-commit; git log --format=%s -1; echo more >> new.txt; git diff",
      );
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toContain("?? new.txt");
      expect(res.stdout).toContain("agent-commit");
      expect(res.stdout).toContain("+more");

      expect(await wm.syncBranch()).toBe("updated");
      const log = await wm.hostGit(wm.main, ["log", "agent", "--format=%s"]);
      expect(log.stdout).toContain("agent-commit");
      const st = await stat(path.join(wm.worktree, "new.txt"));
      expect([st.uid, st.gid]).toEqual([AGENT_UID, AGENT_UID]);
    });

    it("refuses every write that would plant code for host git (EROFS)", async () => {
      const configBefore = await readFile(path.join(wm.record.commonDir, "config"), "utf8");
      expect((await box.sh(FSMONITOR_SCRIPT(wm))).code).toBe(0);
      for (const [what, script] of Object.entries(plantings(wm))) {
        const res = await box.sh(script);
        expect(res.code, what).not.toBe(0);
        expect(res.stderr, what).toMatch(EROFS);
      }
      const rmPointer = await box.sh(`rm -f ${wm.worktree}/.git`);
      expect(rmPointer.code).not.toBe(0);
      expect(rmPointer.stderr).toMatch(/Device or resource busy|Read-only file system/);

      expect(await readFile(path.join(wm.record.commonDir, "config"), "utf8")).toBe(configBefore);
      expect(existsSync(path.join(wm.record.commonDir, "hooks/pre-commit"))).toBe(false);
      expect(await readFile(path.join(wm.worktree, ".git"), "utf8")).toBe(
        `gitdir: ${wm.record.adminDir}\n`,
      );
    });

    it("shows neither the main worktree's files nor sibling worktrees", async () => {
      for (const p of [
        path.join(wm.main, "secret.txt"),
        wm.sibling,
        path.join(wm.sibling, "secret.txt"),
      ]) {
        expect((await box.sh(`test -e ${p}`)).code, p).not.toBe(0);
      }
      expect((await box.sh(`test -e ${wm.worktree}/secret.txt`)).code).toBe(0);
    });

    it("pair: planted config and hooks run in the host's main worktree with the whole .git writable, not with wm's layout", async () => {
      const naive = await fixture();
      const naiveBox = await startSandbox(
        docker,
        [
          { source: naive.worktree, target: naive.worktree, readOnly: false },
          { source: naive.record.commonDir, target: naive.record.commonDir, readOnly: false },
        ],
        naive.worktree,
      );
      expect((await naiveBox.sh(FSMONITOR_SCRIPT(naive))).code).toBe(0);
      for (const what of [
        "core.fsmonitor via git config",
        "hooks/pre-commit",
        "hooks/post-checkout",
      ]) {
        const res = await naiveBox.sh(plantings(naive)[what] ?? "false");
        expect(res.code, `${what}: ${res.stderr}`).toBe(0);
      }
      await useMainWorktree(naive);
      expect(fired(naive, "fsmonitor")).toBe(true);
      expect(fired(naive, "pre-commit")).toBe(true);
      expect(fired(naive, "post-checkout")).toBe(true);

      expect((await box.sh(FSMONITOR_SCRIPT(wm))).code).toBe(0);
      for (const script of Object.values(plantings(wm))) await box.sh(script);
      await useMainWorktree(wm);
      expect(fired(wm, "fsmonitor")).toBe(false);
      expect(fired(wm, "pre-commit")).toBe(false);
      expect(fired(wm, "post-checkout")).toBe(false);
    });

    it("pair: a writable admin dir lets the agent redirect commondir to its own config; wm pins it", async () => {
      const recipe = await fixture();
      const pinned = new Set(
        ["commondir", "gitdir", "config.worktree"].map((n) => path.join(recipe.record.adminDir, n)),
      );
      const recipeBox = await startSandbox(
        docker,
        recipe.mounts.filter((m) => !pinned.has(m.target)),
        recipe.worktree,
      );
      const hijack = (f: LayoutFixture) =>
        [
          FSMONITOR_SCRIPT(f),
          `mkdir -p .evil && ln -s ${f.record.commonDir}/objects .evil/objects && ln -s ${f.record.commonDir}/refs .evil/refs`,
          `printf '[core]\\n\\trepositoryformatversion = 0\\n\\tfsmonitor = ${f.worktree}/fsmonitor.sh\\n' > .evil/config`,
          `echo ${f.worktree}/.evil > ${f.record.adminDir}/commondir`,
        ].join(" && ");
      const planted = await recipeBox.sh(hijack(recipe));
      expect(planted.code, planted.stderr).toBe(0);
      expect((await recipe.hostGit(recipe.worktree, ["status", "--porcelain"])).code).toBe(0);
      expect(fired(recipe, "fsmonitor")).toBe(true);

      const refused = await box.sh(hijack(wm));
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(EROFS);
      const status = await wm.hostGit(wm.worktree, ["status", "--porcelain"]);
      expect(status.code, status.stderr).toBe(0);
      expect(fired(wm, "fsmonitor")).toBe(false);
    });
  });

  /** The layout wm used before git shadows: refs, logs and objects of the repository writable. */
  function sharedLayout(f: LayoutFixture) {
    const { commonDir: c, adminDir: a, worktreePath: w } = f.record;
    const rw = (p: string) => ({ source: p, target: p, readOnly: false });
    const ro = (p: string) => ({ source: p, target: p, readOnly: true });
    return [
      rw(w),
      ro(`${w}/.git`),
      ro(c),
      rw(`${c}/objects`),
      rw(`${c}/refs`),
      rw(`${c}/logs`),
      rw(a),
      ...["commondir", "gitdir", "config.worktree"].map((n) => ro(`${a}/${n}`)),
    ];
  }

  /** A file of the user's that a hostile agent wants host git to write into. */
  async function victim(f: LayoutFixture): Promise<string> {
    const file = path.join(f.root, "home", ".bashrc");
    await writeFile(file, "# the user's shell setup\n");
    await chown(file, AGENT_UID, AGENT_UID);
    return file;
  }

  /** Host git in the main worktree, as the user: a commit of `content`, then status. */
  async function commitInMain(f: LayoutFixture, content: string): Promise<void> {
    await writeFile(path.join(f.main, "host.txt"), content);
    await chown(path.join(f.main, "host.txt"), AGENT_UID, AGENT_UID);
    for (const args of [["add", "host.txt"], ["commit", "-qm", "host commit"], ["status"]]) {
      const res = await f.hostGit(f.main, args);
      expect(res.code, `${args.join(" ")}: ${res.stderr}`).toBe(0);
    }
  }

  describe("no host git writes through what a sandbox planted; an agent moves only its branch", () => {
    const layouts = {
      "the shared layout (control)": sharedLayout,
      "wm's layout": (f: LayoutFixture) => f.mounts,
    };

    for (const [name, mounts] of Object.entries(layouts)) {
      const control = name.includes("control");

      it(`${name}: reflogs symlinked to a host file ${control ? "receive" : "do not receive"} the agent's commit subject`, async () => {
        const f = await fixture();
        const file = await victim(f);
        const box = await startSandbox(docker, mounts(f), f.worktree);
        const c = f.record.commonDir;
        const planted = await box.sh(
          [
            "set -e",
            `mkdir -p ${c}/logs/refs/heads`,
            `ln -sf ${file} ${c}/logs/refs/heads/main`,
            `ln -sf ${file} ${c}/logs/HEAD`,
            "echo x > agent.txt && git add agent.txt",
            `git commit -qm 'x; touch ${f.markers}/PWN; #'`,
          ].join("\n"),
        );
        expect(planted.code, planted.stderr).toBe(0);
        await f.syncBranch();
        // What `wm merge --rebase` does in the main worktree, then the user's own commit there.
        const daemonGit = createSafeGit({
          gitDir: f.record.commonDir,
          workTree: f.main,
          identity: { name: "Host User", email: "host@example.invalid" },
        });
        const picked = await daemonGit.run(["cherry-pick", "refs/heads/agent"]);
        expect(picked.code, picked.stderr).toBe(0);
        await f.asUserWrote();
        await commitInMain(f, "host change\n");
        const text = await readFile(file, "utf8");
        if (control) expect(text).toMatch(/cherry-pick: x; touch [^\n]*\n[\s\S]*host commit/);
        else expect(text).toBe("# the user's shell setup\n");
      });

      it(`${name}: an object directory swapped for a symlink ${control ? "gets" : "does not get"} host git's objects`, async () => {
        const f = await fixture();
        const target = path.join(f.root, "home", "autostart");
        await mkdir(target);
        await chown(target, AGENT_UID, AGENT_UID);
        const box = await startSandbox(docker, mounts(f), f.worktree);
        const content = "host change\n";
        const swapped = await box.sh(
          [
            "set -e",
            `id=$(printf '${content.replace("\n", "\\n")}' | git hash-object --stdin)`,
            `dir=${f.record.commonDir}/objects/$(echo "$id" | cut -c1-2)`,
            `rm -rf "$dir" && ln -s ${target} "$dir"`,
          ].join("\n"),
        );
        expect(swapped.code, swapped.stderr).toBe(0);
        await commitInMain(f, content);
        const written = await readdir(target);
        if (control) expect(written.length).toBeGreaterThan(0);
        else expect(written).toEqual([]);
      });

      it(`${name}: the agent ${control ? "moves" : "cannot move"} main and a sibling's branch`, async () => {
        const f = await fixture();
        const before = await f.hostGit(f.main, ["rev-parse", "main", "sibling"]);
        const box = await startSandbox(docker, mounts(f), f.worktree);
        const moved = await box.sh(
          [
            "set -e",
            "echo y > mine.txt && git add mine.txt && git commit -qm mine",
            "git update-ref refs/heads/main HEAD",
            "git update-ref refs/heads/sibling HEAD",
            "git rev-parse main",
          ].join("\n"),
        );
        expect(moved.code, moved.stderr).toBe(0);
        await f.syncBranch();
        const after = await f.hostGit(f.main, ["rev-parse", "main", "sibling", "agent"]);
        const [main, sibling, agent] = after.stdout.trim().split("\n");
        expect(agent).toBe(moved.stdout.trim());
        if (control) expect([main, sibling]).toEqual([agent, agent]);
        else expect(`${main}\n${sibling}\n`).toBe(before.stdout);
      });
    }
  });
});

describe("gitLayoutMounts checks the worktree against the record", () => {
  it("mounts the repository read-only and the git shadow over refs, logs and objects", async () => {
    const f = await fixture();
    const { commonDir: c, adminDir: a, worktreePath: w } = f.record;
    const sh = f.target.shadow;
    const mounts = await gitLayoutMounts(f.record, sh);
    expect(mounts.map((m) => [m.source, m.target, m.readOnly])).toEqual([
      [w, w, false],
      [`${w}/.git`, `${w}/.git`, true],
      [c, c, true],
      [sh.refs, `${c}/refs`, false],
      [sh.logs, `${c}/logs`, false],
      [sh.objects, `${c}/objects`, false],
      [sh.objectsInfo, `${c}/objects/info`, true],
      [`${c}/objects`, sh.mainObjects, true],
      [a, a, false],
      [sh.adminLogs, `${a}/logs`, false],
      [sh.adminRefs, `${a}/refs`, false],
      [`${a}/commondir`, `${a}/commondir`, true],
      [`${a}/gitdir`, `${a}/gitdir`, true],
      [`${a}/config.worktree`, `${a}/config.worktree`, true],
    ]);
  });

  it("refuses a .git pointer that no longer names the recorded admin dir", async () => {
    const f = await fixture();
    await writeFile(
      path.join(f.worktree, ".git"),
      `gitdir: ${f.record.commonDir}/worktrees/sibling\n`,
    );
    await expect(gitLayoutMounts(f.record, f.target.shadow)).rejects.toThrow(/no longer points at/);
  });

  it("refuses an admin dir outside the common dir's worktrees/", async () => {
    const f = await fixture();
    const record = { ...f.record, commonDir: path.join(f.sibling) };
    await expect(gitLayoutMounts(record, f.target.shadow)).rejects.toBeInstanceOf(GitLayoutError);
  });

  it("refuses an admin dir whose commondir file was rewritten", async () => {
    const f = await fixture();
    await writeFile(path.join(f.record.adminDir, "commondir"), "/tmp\n");
    await expect(gitLayoutMounts(f.record, f.target.shadow)).rejects.toThrow(/names \/tmp, not/);
  });

  it("records realpaths read through safe-git", async () => {
    const f = await fixture();
    expect(f.record).toEqual({
      worktreePath: f.worktree,
      commonDir: path.join(f.main, ".git"),
      adminDir: path.join(f.main, ".git/worktrees/agent"),
      branch: "agent",
    });
  });

  it("refuses to record the main worktree or a planted .git file naming a sibling's admin dir", async () => {
    const f = await fixture();
    await expect(recordWorktree(f.main)).rejects.toBeInstanceOf(GitLayoutError);
    const planted = path.join(f.worktree, "sub");
    await mkdir(planted);
    await writeFile(
      path.join(planted, ".git"),
      `gitdir: ${f.record.commonDir}/worktrees/sibling\n`,
    );
    await expect(recordWorktree(planted)).rejects.toThrow(/names .*sibling\/\.git, not/);
  });
});
