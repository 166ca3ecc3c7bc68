import { promises as fs } from "node:fs";
import type { Registration } from "@wm/protocol";
import { atomicWrite, readNoFollow } from "../fs/atomic-write.ts";

export async function writeRegistration(file: string, reg: Registration): Promise<void> {
  await atomicWrite(file, `${JSON.stringify(reg, null, 2)}\n`);
}

export async function readRegistration(file: string): Promise<Registration | undefined> {
  try {
    return JSON.parse(await readNoFollow(file)) as Registration;
  } catch {
    return undefined;
  }
}

/** Remove the registration only if it still names this process. */
export async function removeOwnRegistration(file: string, pid: number): Promise<void> {
  const reg = await readRegistration(file);
  if (reg?.pid === pid) await fs.rm(file, { force: true });
}
