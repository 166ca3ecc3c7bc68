import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  openDirUnder,
  PlantedPathError,
  readFileUnder,
  withDirUnder,
  writeFileUnder,
} from "./no-follow.ts";

let tmp: string;
let root: string;
let outside: string;
let victim: string;

beforeEach(async () => {
  tmp = await fs.mkdtemp(path.join(os.tmpdir(), "wm-nofollow-"));
  root = path.join(tmp, "worktree");
  outside = path.join(tmp, "outside");
  victim = path.join(outside, "victim");
  await fs.mkdir(root);
  await fs.mkdir(outside);
  await fs.writeFile(victim, "original\n");
});
afterEach(async () => {
  await fs.rm(tmp, { recursive: true, force: true });
});

const refusal = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PlantedPathError);
  return err as PlantedPathError;
};
const entries = (dir: string) => fs.readdir(dir).then((e) => e.sort());

describe("writeFileUnder", () => {
  it("creates the parents and a regular file with the given mode", async () => {
    const file = await writeFileUnder(root, ".workmux/PROMPT-x.md", "hello\n", { mode: 0o640 });
    expect(file).toBe(path.join(root, ".workmux", "PROMPT-x.md"));
    const st = await fs.lstat(file);
    expect(st.isFile()).toBe(true);
    expect(st.mode & 0o777).toBe(0o640);
    expect(await fs.readFile(file, "utf8")).toBe("hello\n");
    expect(await entries(path.join(root, ".workmux"))).toEqual(["PROMPT-x.md"]);
  });

  it("replaces a symlink at the file's name with a regular file; the link's target is untouched", async () => {
    await fs.mkdir(path.join(root, ".workmux"));
    const link = path.join(root, ".workmux", "PROMPT-x.md");
    await fs.symlink(victim, link);
    await writeFileUnder(root, ".workmux/PROMPT-x.md", "payload\n");
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect((await fs.lstat(link)).isFile()).toBe(true);
    expect(await fs.readFile(link, "utf8")).toBe("payload\n");
    expect(await entries(outside)).toEqual(["victim"]);
  });

  it("replaces a dangling symlink without creating its target", async () => {
    const target = path.join(outside, "created-by-follow");
    await fs.symlink(target, path.join(root, "f"));
    await writeFileUnder(root, "f", "payload\n");
    expect(existsSync(target)).toBe(false);
    expect((await fs.lstat(path.join(root, "f"))).isFile()).toBe(true);
  });

  it("refuses a symlinked parent directory, naming it, and writes nothing outside", async () => {
    await fs.symlink(outside, path.join(root, ".workmux"));
    const err = await refusal(writeFileUnder(root, ".workmux/PROMPT-x.md", "payload\n"));
    expect(err.kind).toBe("symlink");
    expect(err.rel).toBe(".workmux");
    expect(err.message).toBe(
      "refusing to write through a symbolic link planted in the worktree: .workmux",
    );
    expect(await entries(outside)).toEqual(["victim"]);
  });

  it("refuses a symlink deeper in the path (a dangling one too) and a non-directory", async () => {
    await fs.mkdir(path.join(root, "a"));
    await fs.symlink(outside, path.join(root, "a", "b"));
    expect((await refusal(writeFileUnder(root, "a/b/c/f", "x"))).rel).toBe("a/b");
    await fs.symlink(path.join(outside, "nowhere"), path.join(root, "dangling"));
    expect((await refusal(writeFileUnder(root, "dangling/f", "x"))).kind).toBe("symlink");
    expect(existsSync(path.join(outside, "nowhere"))).toBe(false);
    await fs.writeFile(path.join(root, "plain"), "x");
    const err = await refusal(writeFileUnder(root, "plain/f", "x"));
    expect(err.kind).toBe("not-directory");
    expect(err.message).toContain("plain");
    expect(await entries(outside)).toEqual(["victim"]);
  });

  it("replaces an existing regular file, even one hard-linked to a file outside", async () => {
    await fs.writeFile(path.join(root, "f"), "old\n");
    await writeFileUnder(root, "f", "new\n");
    expect(await fs.readFile(path.join(root, "f"), "utf8")).toBe("new\n");
    await fs.link(victim, path.join(root, "hard"));
    await writeFileUnder(root, "hard", "payload\n");
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect(await fs.readFile(path.join(root, "hard"), "utf8")).toBe("payload\n");
  });

  it("refuses to replace a directory and leaves no temporary file behind", async () => {
    await fs.mkdir(path.join(root, "d"));
    await fs.writeFile(path.join(root, "d", "keep"), "k");
    const err = await refusal(writeFileUnder(root, "d", "x"));
    expect(err.kind).toBe("directory");
    expect(await entries(root)).toEqual(["d"]);
    expect(await entries(path.join(root, "d"))).toEqual(["keep"]);
  });

  it("refuses paths that leave the root", async () => {
    await expect(writeFileUnder(root, "../outside/victim", "x")).rejects.toThrow(/\.\./);
    await expect(writeFileUnder(root, victim, "x")).rejects.toThrow(/not a relative path/);
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
  });

  // The suite runs as root (it starts containers as other users); giving files away needs it.
  it("gives what it creates to the owner, through the descriptor; existing directories keep theirs", async () => {
    await fs.mkdir(path.join(root, "existing"));
    const owner = { uid: 4321, gid: 4322 };
    await writeFileUnder(root, "existing/new/f", "x", { owner });
    const own = async (p: string) => {
      const st = await fs.lstat(path.join(root, p));
      return [st.uid, st.gid];
    };
    expect(await own("existing")).toEqual([0, 0]);
    expect(await own("existing/new")).toEqual([4321, 4322]);
    expect(await own("existing/new/f")).toEqual([4321, 4322]);
    await fs.symlink(victim, path.join(root, "existing", "link"));
    await writeFileUnder(root, "existing/link", "y", { owner });
    expect(await own("existing/link")).toEqual([4321, 4322]);
    expect((await fs.stat(victim)).uid).toBe(0);
  });
});

describe("PinnedDir", () => {
  // Linux, the only host wm sandboxes on; the fallback without /proc has its own test file.
  it("keeps writing into the directory it opened when a component is swapped for a link", async () => {
    await fs.mkdir(path.join(root, "a"));
    await withDirUnder(root, "a", {}, async (dir) => {
      await fs.rename(path.join(root, "a"), path.join(root, "a-moved"));
      await fs.symlink(outside, path.join(root, "a"));
      await dir.writeFile("f", "pinned\n");
    });
    expect(await entries(outside)).toEqual(["victim"]);
    expect(await fs.readFile(path.join(root, "a-moved", "f"), "utf8")).toBe("pinned\n");
  });

  it("copies a file (keeping its mode) and creates symlinks, replacing what is there", async () => {
    const source = path.join(tmp, "source");
    await fs.writeFile(source, "copied\n", { mode: 0o600 });
    await fs.chmod(source, 0o600);
    await fs.mkdir(path.join(root, "d"));
    await fs.symlink(victim, path.join(root, "d", "copy"));
    await fs.symlink(victim, path.join(root, "d", "link"));
    await withDirUnder(root, "d", {}, async (dir) => {
      await dir.copyFile("copy", source);
      await dir.symlink("link", source);
    });
    const copy = await fs.lstat(path.join(root, "d", "copy"));
    expect(copy.isFile()).toBe(true);
    expect(copy.mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(root, "d", "copy"), "utf8")).toBe("copied\n");
    expect(await fs.readlink(path.join(root, "d", "link"))).toBe(source);
    expect(await fs.readFile(victim, "utf8")).toBe("original\n");
    expect(await entries(path.join(root, "d"))).toEqual(["copy", "link"]);
  });

  it("opens without creating when asked, and refuses a link there", async () => {
    await expect(openDirUnder(root, "missing")).rejects.toMatchObject({ code: "ENOENT" });
    expect(existsSync(path.join(root, "missing"))).toBe(false);
    await fs.symlink(outside, path.join(root, "l"));
    expect((await refusal(openDirUnder(root, "l"))).rel).toBe("l");
  });
});

describe("readFileUnder", () => {
  it("reads a file, gives undefined when it or a parent is missing, refuses links", async () => {
    await fs.mkdir(path.join(root, ".claude"));
    await fs.writeFile(path.join(root, ".claude", "settings.json"), "{}");
    expect(await readFileUnder(root, ".claude/settings.json")).toBe("{}");
    expect(await readFileUnder(root, ".claude/other.json")).toBeUndefined();
    expect(await readFileUnder(root, "nope/settings.json")).toBeUndefined();
    await fs.symlink(victim, path.join(root, ".claude", "link.json"));
    expect((await refusal(readFileUnder(root, ".claude/link.json"))).kind).toBe("symlink");
    await fs.symlink(outside, path.join(root, "dir-link"));
    expect((await refusal(readFileUnder(root, "dir-link/victim"))).rel).toBe("dir-link");
  });
});
