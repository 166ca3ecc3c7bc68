import type { DoctorCheck } from "@wm/protocol";
import type { ImageClient } from "../backends/types.ts";
import { checkImage } from "../images/check-image.ts";
import { DEFAULT_BASE_IMAGE } from "../images/image-labels.ts";

/** The base image and the configured sandbox image on a runtime that answered. */
export async function imageChecks(
  backend: ImageClient,
  sandboxImage: string,
): Promise<DoctorCheck[]> {
  const out: DoctorCheck[] = [];
  for (const [name, image] of [
    [`${backend.runtime} base image`, DEFAULT_BASE_IMAGE],
    [`${backend.runtime} sandbox image`, sandboxImage],
  ] as const) {
    try {
      const c = await checkImage(backend, image);
      out.push({
        name,
        status: c.state === "ok" && !c.warning ? "ok" : "warn",
        detail: c.warning ? `${c.detail}; ${c.warning}` : c.detail,
        ...(c.fix ? { fix: c.fix } : {}),
      });
    } catch (err) {
      out.push({ name, status: "warn", detail: (err as Error).message });
    }
  }
  return out;
}
