import { promises as fs } from "node:fs";
import path from "node:path";
import type { MountSpec } from "../backends/types.ts";
import { atomicWrite } from "../fs/atomic-write.ts";
import { SANDBOX_PATH } from "../images/dockerfile.ts";
import { GUEST_MOUNT } from "../sandbox/guest-endpoint.ts";
import { SHIM_MOUNT } from "../sandbox/shim-runtime.ts";

/** Inside a sandbox: one script per host command, first on PATH. */
export const HOST_BIN = `${GUEST_MOUNT}/host-bin`;
const PROFILE_TARGET = "/etc/profile.d/wm-host-commands.sh";

/**
 * Write the host commands' wrappers into the sandbox's endpoint directory (mounted read-only at
 * /run/wm): `/run/wm/host-bin/NAME` runs `wm host-exec NAME "$@"`. Names were checked by the
 * config schema, so each is a plain file name.
 */
export async function writeHostCommandWrappers(
  endpointDir: string,
  names: readonly string[],
): Promise<void> {
  const dir = path.join(endpointDir, "host-bin");
  await fs.rm(dir, { recursive: true, force: true });
  await fs.mkdir(dir, { mode: 0o755 });
  for (const name of names) {
    await atomicWrite(
      path.join(dir, name),
      `#!/bin/sh\n# wm: runs ${name} on the host (sandbox.host_commands)\nexec ${SHIM_MOUNT}/bin/wm host-exec ${name} "$@"\n`,
      0o755,
    );
  }
  // Login shells rebuild PATH from /etc/profile; this puts the wrappers back in front.
  await atomicWrite(
    path.join(endpointDir, "host-commands.sh"),
    `case ":$PATH:" in *":${HOST_BIN}:"*) ;; *) PATH="${HOST_BIN}:$PATH"; export PATH ;; esac\n`,
    0o644,
  );
}

/** The login-shell snippet, mounted into the sandbox's /etc/profile.d. */
export function hostCommandsProfileMount(endpointDir: string): MountSpec {
  return {
    source: path.join(endpointDir, "host-commands.sh"),
    target: PROFILE_TARGET,
    readOnly: true,
  };
}

/** The sandbox's PATH with the wrappers first, from the image's own PATH. */
export function pathWithHostCommands(imageEnv: readonly string[] | undefined): string {
  const own = imageEnv?.find((e) => e.startsWith("PATH="))?.slice(5) || SANDBOX_PATH;
  return `${HOST_BIN}:${own}`;
}
