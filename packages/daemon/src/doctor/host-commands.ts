import type { DoctorCheck } from "@wm/protocol";
import { createWhich } from "./host-probes.ts";
import type { Which } from "./types.ts";

/**
 * One check per `sandbox.host_commands` name: where the host-command runner finds it (the
 * daemon's PATH, then the system directories), or that it is missing.
 */
export async function checkHostCommands(
  names: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  which: Which = createWhich(env),
): Promise<DoctorCheck[]> {
  return Promise.all(
    names.map(async (command): Promise<DoctorCheck> => {
      const name = `host command ${command}`;
      const found = await which(command);
      if (found) return { name, status: "ok", detail: `${command} is ${found}` };
      return {
        name,
        status: "warn",
        detail: `${command} is listed in sandbox.host_commands but is not found on the host (PATH of the wm daemon: ${env.PATH ?? "unset"}), so sandboxes cannot run it`,
        fix: `install ${command}, or remove it from sandbox.host_commands in ~/.config/workmux/config.yaml; if it is installed elsewhere, restart the daemon from a shell whose PATH has it: \`wm daemon restart\``,
      };
    }),
  );
}
