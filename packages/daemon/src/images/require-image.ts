import { RpcError } from "@wm/protocol";
import type { ImageClient } from "../backends/types.ts";
import { checkImage } from "./check-image.ts";

/** Refuses an image that is missing or stale, naming the command that builds it. */
export async function requireImage(images: ImageClient, image: string): Promise<void> {
  const check = await checkImage(images, image);
  if (check.state === "missing" || check.state === "stale") {
    throw new RpcError(
      "Unavailable",
      `${check.detail}; ${check.state === "stale" ? "rebuild" : "build"} it with \`${check.fix}\``,
      {
        image,
        state: check.state,
        fix: check.fix,
      },
    );
  }
}
