import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { ImageClient } from "../backends/types.ts";

/** scripts/build-base-image.sh of this installation (beside dist/, or up from the sources). */
export function baseImageScript(): string | undefined {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = path.join(dir, "scripts", "build-base-image.sh");
    if (existsSync(candidate)) return candidate;
    dir = path.dirname(dir);
  }
  return undefined;
}

/**
 * The offline base in `images`' engine: debootstrap from Debian's packages, then import (no
 * registry). Needs root for debootstrap; output is reported line by line. Skips the work when
 * the base is current. (The script still imports with the engine's own CLI.)
 */
export function buildOfflineBase(
  images: Pick<ImageClient, "runtime">,
  env: Readonly<Record<string, string | undefined>>,
  onLine: (line: string) => void,
): Promise<void> {
  const { runtime } = images;
  const script = baseImageScript();
  if (!script)
    return Promise.reject(
      new Error("scripts/build-base-image.sh is not part of this installation"),
    );
  if ((process.getuid?.() ?? 0) !== 0) {
    return Promise.reject(
      new Error(
        `building the offline base needs root (debootstrap); run: sudo bash ${script}${runtime === "podman" ? " --runtime podman" : ""}`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script, "--runtime", runtime], {
      env: { ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let tail = "";
    const read = (chunk: Buffer) => {
      const text = tail + chunk.toString("utf8");
      const lines = text.split("\n");
      tail = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) onLine(l);
    };
    child.stdout.on("data", read);
    child.stderr.on("data", read);
    child.on("error", reject);
    child.on("close", (code) => {
      if (tail.trim()) onLine(tail);
      if (code === 0) resolve();
      else reject(new Error(`${script} exited with code ${code}`));
    });
  });
}
