import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { RunCommand } from "./plan.ts";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../../..");

export interface Sandbox {
  root: string;
  homedir: string;
  daemonEntry: string;
  calls: string[][];
  run: RunCommand;
  cleanup(): Promise<void>;
}

/** A temp home with a fake daemon bundle, and a `run` that records commands and succeeds. */
export async function makeSandbox(failing: readonly string[] = []): Promise<Sandbox> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "wm-service-"));
  const homedir = path.join(root, "home");
  const daemonEntry = path.join(root, "install", "dist", "wmd.js");
  await fs.mkdir(path.dirname(daemonEntry), { recursive: true });
  await fs.mkdir(homedir);
  await fs.writeFile(daemonEntry, "");
  const calls: string[][] = [];
  return {
    root,
    homedir,
    daemonEntry,
    calls,
    run: async (cmd, args) => {
      calls.push([cmd, ...args]);
      const failed = failing.some((f) => [cmd, ...args].join(" ").startsWith(f));
      return failed
        ? { code: 1, stdout: "", stderr: "Failed to connect to bus" }
        : { code: 0, stdout: "", stderr: "" };
    },
    cleanup: () => fs.rm(root, { recursive: true, force: true }),
  };
}
