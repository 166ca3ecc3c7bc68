import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { assertNoPlantedLinks, PlantedLinkError } from "./planted-links.ts";

let admin: string;
beforeEach(async () => {
  admin = await mkdtemp(path.join(os.tmpdir(), "wm-admin-"));
  await mkdir(path.join(admin, "logs", "refs"), { recursive: true });
  await writeFile(path.join(admin, "HEAD"), "ref: refs/heads/agent\n");
  await writeFile(path.join(admin, "index"), "");
});
afterEach(() => rm(admin, { recursive: true, force: true }));

describe("assertNoPlantedLinks", () => {
  it("passes an admin dir git itself wrote", async () => {
    await expect(assertNoPlantedLinks(admin)).resolves.toBeUndefined();
  });

  it("names a symlink planted at the top or deeper, even after the dir was found clean", async () => {
    await assertNoPlantedLinks(admin);
    const top = path.join(admin, "COMMIT_EDITMSG");
    await symlink("/etc/passwd", top);
    await expect(assertNoPlantedLinks(admin)).rejects.toThrow(new PlantedLinkError(top));
    await rm(top);
    await assertNoPlantedLinks(admin);
    const deep = path.join(admin, "logs", "refs", "HEAD");
    await symlink(path.join(os.homedir(), ".bashrc"), deep);
    await expect(assertNoPlantedLinks(admin)).rejects.toBeInstanceOf(PlantedLinkError);
  });

  it("refuses the directory itself when it is a symlink", async () => {
    const link = `${admin}-link`;
    await symlink(admin, link);
    try {
      await expect(assertNoPlantedLinks(link)).rejects.toThrow(/is a symbolic link/);
    } finally {
      await rm(link);
    }
  });
});
