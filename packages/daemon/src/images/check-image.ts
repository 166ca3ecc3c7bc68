import { PROTOCOL_VERSION } from "@wm/protocol";
import type { ContainerBackend } from "../backends/types.ts";
import { baseImageFix } from "./fixes.ts";
import {
  agentOfImageName,
  BASE_IMAGE_VERSION,
  DEFAULT_BASE_IMAGE,
  LABEL,
  SANDBOX_IMAGE_VERSION,
} from "./image-labels.ts";

export interface ImageCheck {
  state: "ok" | "missing" | "stale" | "custom";
  detail: string;
  /** The exact command that fixes a missing or stale image. */
  fix?: string;
}

/**
 * Whether an image can run sandboxes: ours must exist with this recipe and protocol version;
 * a custom image (any other name) need only exist — without wm labels it is reported, not refused.
 */
export async function checkImage(
  backend: ContainerBackend,
  name: string,
  agent?: string,
): Promise<ImageCheck> {
  const ourAgent = agentOfImageName(name);
  const info = await backend.inspectImage(name);
  const build = `wm sandbox build --agent ${ourAgent ?? agent ?? "claude"}${backend.runtime === "podman" ? " --runtime podman" : ""}`;
  if (name === DEFAULT_BASE_IMAGE) {
    if (!info)
      return {
        state: "missing",
        detail: `${name} is not in ${backend.runtime}`,
        fix: baseImageFix(backend.runtime, name),
      };
    const v = info.labels[LABEL.baseVersion];
    return v === String(BASE_IMAGE_VERSION)
      ? { state: "ok", detail: `${name} (base version ${v})` }
      : {
          state: "stale",
          detail: `${name} has base version ${v ?? "none"}, wm expects ${BASE_IMAGE_VERSION}`,
          fix: baseImageFix(backend.runtime, name, true),
        };
  }
  if (!info) {
    return ourAgent
      ? { state: "missing", detail: `${name} does not exist in ${backend.runtime}`, fix: build }
      : {
          state: "missing",
          detail: `the custom image ${name} does not exist in ${backend.runtime}`,
          fix: `build it, e.g. docker build -t ${name} . (see wm sandbox init-dockerfile)`,
        };
  }
  if (!ourAgent) {
    const labelled = info.labels[LABEL.image] === "sandbox";
    return {
      state: "custom",
      detail: labelled
        ? `custom image ${name}`
        : `custom image ${name} (no wm labels: make sure /opt/wm/bin is on its PATH)`,
    };
  }
  const recipe = info.labels[LABEL.imageVersion];
  const protocol = info.labels[LABEL.protocol];
  if (recipe !== String(SANDBOX_IMAGE_VERSION) || protocol !== String(PROTOCOL_VERSION)) {
    return {
      state: "stale",
      detail: `${name} was built for recipe ${recipe ?? "?"} / protocol ${protocol ?? "?"}, this wm needs ${SANDBOX_IMAGE_VERSION} / ${PROTOCOL_VERSION}`,
      fix: build,
    };
  }
  return { state: "ok", detail: `${name} (recipe ${recipe}, protocol ${protocol})` };
}
