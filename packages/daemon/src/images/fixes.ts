import type { RuntimeName } from "../backends/types.ts";
import { DEFAULT_BASE_IMAGE } from "./image-labels.ts";

/** The command that builds (or with `force`, rebuilds) the offline base image. */
export function baseImageFix(runtime: RuntimeName, base: string, force = false): string {
  const args = [
    ...(runtime === "podman" ? ["--runtime", "podman"] : []),
    ...(base !== DEFAULT_BASE_IMAGE ? ["--name", base] : []),
    ...(force ? ["--force"] : []),
  ];
  return ["sudo bash scripts/build-base-image.sh", ...args].join(" ");
}
