import type { RuntimeName } from "../backends/types.ts";
import { DEFAULT_BASE_IMAGE } from "./image-labels.ts";

/** The command that (re)builds a base image. */
export function baseImageFix(runtime: RuntimeName, base: string, force = false): string {
  const args = ["sudo bash scripts/build-base-image.sh"];
  if (runtime === "podman") args.push("--runtime podman");
  if (base !== DEFAULT_BASE_IMAGE) args.push(`--name ${base}`);
  if (force) args.push("--force");
  return args.join(" ");
}

/** The command that (re)builds an agent's sandbox image. */
export function sandboxBuildFix(runtime: RuntimeName, agent: string): string {
  return `wm sandbox build --agent ${agent}${runtime === "podman" ? " --runtime podman" : ""}`;
}
