import type { DoctorCheck } from "@wm/protocol";
import { loadGlobalConfig } from "../config/index.ts";
import { checkHostCommands } from "../doctor/host-commands.ts";
import { imageChecks } from "../doctor/images.ts";
import { runDoctor } from "../doctor/index.ts";
import type { Handler } from "../rpc/dispatch.ts";
import { imageChoice } from "../sandbox/launch-plan.ts";

export const doctorRun: Handler<"doctor.run"> = async (_params, { daemon }) => {
  const checks = await runDoctor({
    env: daemon.env,
    platform: process.platform,
    arch: process.arch,
    uid: process.getuid?.() ?? 0,
    engineVersion: daemon.backends.probeEngineVersion,
  });
  const images: DoctorCheck[] = [];
  const config = await loadGlobalConfig({ env: daemon.env, homedir: daemon.homedir }).catch(
    () => undefined,
  );
  const { image } = imageChoice(config?.config ?? { agent: "claude", sandbox: {} });
  for (const runtime of ["docker", "podman"] as const) {
    if (checks.find((c) => c.name === runtime)?.status !== "ok") continue;
    images.push(...(await imageChecks(daemon.backends.engine(runtime), image)));
  }
  const hostCommands = await checkHostCommands(
    config?.config.sandbox.host_commands ?? [],
    daemon.env,
  );
  return { checks: [...checks, ...hostCommands, ...images] };
};
