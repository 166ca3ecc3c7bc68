import { runDoctor } from "../doctor/index.ts";
import type { Handler } from "../rpc/dispatch.ts";

export const doctorRun: Handler<"doctor.run"> = async (_params, { daemon }) => ({
  checks: await runDoctor({
    env: daemon.env,
    platform: process.platform,
    arch: process.arch,
    uid: process.getuid?.() ?? 0,
  }),
});
