import { z } from "zod";
import { defineMethod } from "../method.ts";

export const checkStatus = z.enum(["ok", "warn", "fail"]);

export const doctorCheck = z.object({
  name: z.string(),
  status: checkStatus,
  /** What was found, e.g. a version string or an error. */
  detail: z.string(),
  /** What to do when status is not ok. */
  fix: z.string().optional(),
});
export type DoctorCheck = z.infer<typeof doctorCheck>;

export const doctorRun = defineMethod({
  summary:
    "Check what wm needs on this machine: Docker, Podman, tmux, git, bubblewrap, qemu (the daemon's view).",
  surfaces: ["host"],
  params: z.strictObject({}),
  result: z.object({ checks: z.array(doctorCheck) }),
});
