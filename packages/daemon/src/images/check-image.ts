import { PROTOCOL_VERSION } from "@wm/protocol";
import type { ImageClient, ImageInfo } from "../backends/types.ts";
import { baseImageFix, sandboxBuildFix } from "./fixes.ts";
import {
  agentOfImageName,
  BASE_IMAGE_VERSION,
  DEFAULT_BASE_IMAGE,
  LABEL,
  SANDBOX_IMAGE_VERSION,
} from "./image-labels.ts";

export interface ImageCheck {
  state: "ok" | "missing" | "stale";
  detail: string;
  /** The exact command that makes the image usable (absent when it is). */
  fix?: string;
  /** Something worth telling that does not stop the image from being used. */
  warning?: string;
}

/** Why a sandbox image's labels make it unusable by this wm, if they do. */
function staleness(labels: Record<string, string>): string | undefined {
  if (labels[LABEL.image] !== "sandbox")
    return "it was not built by `wm sandbox build` (no wm.image=sandbox label)";
  const version = labels[LABEL.imageVersion];
  if (version !== String(SANDBOX_IMAGE_VERSION)) {
    return `it has image version ${version ?? "(none)"}, this wm builds version ${SANDBOX_IMAGE_VERSION}`;
  }
  const protocol = labels[LABEL.protocol];
  if (protocol !== String(PROTOCOL_VERSION)) {
    return `it was built for protocol ${protocol ?? "(none)"}, this wm speaks ${PROTOCOL_VERSION}`;
  }
  return undefined;
}

function describe(name: string, img: ImageInfo): string {
  const l = img.labels;
  const parts = [`image version ${l[LABEL.imageVersion]}`, `protocol ${l[LABEL.protocol]}`];
  if (l[LABEL.wmVersion]) parts.push(`wm ${l[LABEL.wmVersion]}`);
  if (l[LABEL.agentVersion]) parts.push(`${l[LABEL.agent]} ${l[LABEL.agentVersion]}`);
  return `${name} (${parts.join(", ")}; built ${img.created})`;
}

async function checkBase(backend: ImageClient, name: string): Promise<ImageCheck> {
  const img = await backend.inspectImage(name);
  const fix = baseImageFix(backend.runtime, name);
  if (!img) return { state: "missing", detail: `base image ${name} does not exist`, fix };
  const version = img.labels[LABEL.baseVersion];
  if (version !== String(BASE_IMAGE_VERSION)) {
    return {
      state: "stale",
      detail: `base image ${name} has wm.base.version=${version ?? "(none)"}, this wm expects ${BASE_IMAGE_VERSION}`,
      fix: baseImageFix(backend.runtime, name, true),
    };
  }
  return { state: "ok", detail: `base image ${name} (wm.base.version ${version})` };
}

async function checkSandbox(
  backend: ImageClient,
  name: string,
  agent: string,
  base: string,
): Promise<ImageCheck> {
  const img = await backend.inspectImage(name);
  const build = sandboxBuildFix(backend.runtime, agent);
  if (!img) {
    if (!(await backend.inspectImage(base))) {
      return {
        state: "missing",
        detail: `${name} does not exist, nor does its base image ${base}`,
        fix: `${baseImageFix(backend.runtime, base)} && ${build}`,
      };
    }
    return { state: "missing", detail: `${name} does not exist`, fix: build };
  }
  const why = staleness(img.labels);
  if (why) return { state: "stale", detail: `${name} is out of date: ${why}`, fix: build };
  return { state: "ok", detail: describe(name, img) };
}

/** A custom image (`sandbox.image`) only has to exist; missing or old wm labels are a warning. */
async function checkCustom(backend: ImageClient, name: string): Promise<ImageCheck> {
  const img = await backend.inspectImage(name);
  if (!img) {
    return {
      state: "missing",
      detail: `${name} (sandbox.image) does not exist in ${backend.runtime}`,
      fix: `${backend.runtime} build -t ${name} <directory with its Dockerfile>  (wm sandbox init-dockerfile writes one)`,
    };
  }
  const result: ImageCheck = {
    state: "ok",
    detail: `${name} (custom image, built ${img.created})`,
  };
  const agent = img.labels[LABEL.agent];
  if (img.labels[LABEL.image] !== "sandbox" || !agent) {
    result.warning = `${name} has no wm labels: wm cannot tell whether it provides what a sandbox needs (WM_SANDBOX_GUEST, /opt/wm on PATH, a writable HOME); build it FROM a wm-sandbox image (wm sandbox init-dockerfile)`;
    return result;
  }
  const why = staleness(img.labels);
  if (why) {
    result.warning = `${name} is built FROM an out-of-date wm-sandbox:${agent} (${why}); rebuild that (${sandboxBuildFix(backend.runtime, agent)}), then ${name}`;
  }
  return result;
}

/**
 * Whether `name` can run sandboxes: wm-base:* is checked as a base image, wm-sandbox:<agent>
 * against this wm's image version and protocol, anything else as a user's custom image.
 */
export async function checkImage(
  backend: ImageClient,
  name: string,
  opts: { base?: string } = {},
): Promise<ImageCheck> {
  if (name.startsWith("wm-base:")) return checkBase(backend, name);
  const agent = agentOfImageName(name);
  if (agent) return checkSandbox(backend, name, agent, opts.base ?? DEFAULT_BASE_IMAGE);
  return checkCustom(backend, name);
}
