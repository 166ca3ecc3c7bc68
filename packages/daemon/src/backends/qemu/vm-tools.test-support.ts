import { execFileSync } from "node:child_process";
import { describe, it } from "vitest";
import { withSbin } from "../../images/vm-exec.ts";

/** The environment VM tests run tools in (`mke2fs`, `debugfs` live in /usr/sbin). */
export const vmToolEnv = withSbin(process.env);

const TOOLS = ["qemu-system-x86_64", "qemu-img", "mke2fs", "debugfs"];

/** The VM tools this machine lacks. */
export const missingVmTools = TOOLS.filter((t) => {
  try {
    execFileSync("sh", ["-c", `command -v ${t}`], { env: vmToolEnv, stdio: "ignore" });
    return false;
  } catch {
    return true;
  }
});

/** In CI a missing VM tool fails the run (the VM cases would otherwise not run at all). */
export function failInCiWithoutVmTools(): void {
  describe.runIf(missingVmTools.length > 0 && process.env.CI === "true")("VM tools in CI", () => {
    it("has qemu-system-x86_64, qemu-img and e2fsprogs", () => {
      throw new Error(
        `missing ${missingVmTools.join(", ")}: run scripts/install-deps.sh --with-qemu`,
      );
    });
  });
}
