import { execFileSync } from "node:child_process";
import { chmod, chown, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { withSbin } from "./vm-exec.ts";
import { buildRootDisk } from "./vm-rootfs.ts";
import { indexTar } from "./vm-tar-index.ts";

const env = withSbin(process.env);
let dir: string;
let tarball: string;
const longName = `usr/share/${"deep/".repeat(25)}file.txt`;

function debugfsStat(image: string, file: string): string {
  return execFileSync("debugfs", ["-R", `stat "${file}"`, image], {
    env,
    stdio: ["ignore", "pipe", "ignore"],
  }).toString();
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), "wm-rootfs-"));
  const src = path.join(dir, "src");
  await mkdir(path.join(src, "usr/bin"), { recursive: true });
  await mkdir(path.join(src, path.dirname(longName)), { recursive: true });
  await writeFile(path.join(src, "usr/bin/su"), "#!/bin/sh\n", { mode: 0o755 });
  await writeFile(path.join(src, "usr/bin/owned"), "data\n", { mode: 0o640 });
  await writeFile(path.join(src, longName), "long\n");
  tarball = path.join(dir, "root.tar");
  // A root file system tarball as build-base-image.sh writes it: numeric owners, a setuid binary,
  // a file owned by another user, a device node (added from the host's /dev/null), a long name.
  execFileSync(
    "tar",
    ["--numeric-owner", "--owner=0", "--group=0", "-C", src, "-cf", tarball, "."],
    { env },
  );
  execFileSync(
    "tar",
    ["--numeric-owner", "--owner=1234", "--group=42", "-C", src, "-rf", tarball, "./usr/bin/owned"],
    { env },
  );
  execFileSync(
    "tar",
    [
      "--numeric-owner",
      "--mode=4755",
      "--owner=0",
      "--group=0",
      "-C",
      src,
      "-rf",
      tarball,
      "./usr/bin/su",
    ],
    { env },
  );
  execFileSync("tar", ["--numeric-owner", "-C", "/", "-rf", tarball, "dev/null"], { env });
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe("indexTar", () => {
  it("reads owners, modes, device numbers and GNU long names", async () => {
    const byPath = new Map((await indexTar(tarball)).map((m) => [m.path, m]));
    expect(byPath.get("dev/null")).toMatchObject({ type: "3", devMajor: 1, devMinor: 3 });
    expect(byPath.get(longName)).toMatchObject({ type: "0", size: 5 });
    expect(byPath.get("usr/bin/su")?.mode).toBe(0o4755);
  });
});

describe("buildRootDisk", () => {
  it("writes the tarball's owners, setuid bits and device nodes into the ext4 image", async () => {
    const image = path.join(dir, "root.ext4");
    const r = await buildRootDisk({
      tarball,
      out: image,
      work: path.join(dir, "work"),
      env,
      extra: [{ path: "sbin/wm-init", mode: 0o755, data: "#!/bin/sh\n" }],
    });
    expect(r.fixups).toBeGreaterThan(0);
    const owned = debugfsStat(image, "/usr/bin/owned");
    expect(owned).toMatch(/User:\s+1234\s+Group:\s+42/);
    expect(owned).toMatch(/Mode:\s+0640/);
    expect(debugfsStat(image, "/usr/bin/su")).toMatch(/Mode:\s+04755/);
    const dev = debugfsStat(image, "/dev/null");
    expect(dev).toMatch(/Type: character special/);
    expect(dev).toMatch(/Device major\/minor number: 01:03/);
    const init = debugfsStat(image, "/sbin/wm-init");
    expect(init).toMatch(/User:\s+0\s+Group:\s+0/);
    expect(init).toMatch(/Mode:\s+0755/);
    expect(debugfsStat(image, `/${longName}`)).toMatch(/Size: 5\b/);
  });

  it.runIf(process.getuid?.() === 0)(
    "needs no root: an unprivileged user builds the same image",
    async () => {
      // Run as root here, so prove the point as nobody: unpack, mke2fs -d and debugfs without privileges.
      const work = path.join(dir, "nobody");
      await mkdir(work);
      await chmod(dir, 0o755);
      await chown(work, 65534, 65534);
      const script = path.join(work, "build.mts");
      const module = fileURLToPath(new URL("./vm-rootfs.ts", import.meta.url));
      await writeFile(
        script,
        `import { buildRootDisk } from ${JSON.stringify(module)};\n` +
          `await buildRootDisk({ tarball: ${JSON.stringify(tarball)}, out: "${work}/root.ext4", work: "${work}/w", env: process.env, extra: [] });\n`,
      );
      const tsx = fileURLToPath(new URL("../../../../node_modules/.bin/tsx", import.meta.url));
      execFileSync("setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", tsx, script], {
        env: { PATH: "/usr/bin:/bin", HOME: work },
        cwd: work,
        stdio: "pipe",
      });
      const image = path.join(work, "root.ext4");
      expect(debugfsStat(image, "/usr/bin/owned")).toMatch(/User:\s+1234\s+Group:\s+42/);
      expect(debugfsStat(image, "/usr/bin/su")).toMatch(/User:\s+0\s+Group:\s+0/);
      expect(debugfsStat(image, "/usr/bin/su")).toMatch(/Mode:\s+04755/);
      expect(debugfsStat(image, "/dev/null")).toMatch(/Type: character special/);
    },
  );
});
