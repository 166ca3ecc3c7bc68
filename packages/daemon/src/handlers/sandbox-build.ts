import { BUILD_PROGRESS_NOTIFICATION, RpcError } from "@wm/protocol";
import { ConfigError, loadConfig } from "../config/index.ts";
import { buildSandboxImage } from "../images/build-sandbox-image.ts";
import { DEFAULT_BASE_IMAGE } from "../images/image-labels.ts";
import { buildOfflineBase } from "../images/offline-base.ts";
import type { Handler } from "../rpc/dispatch.ts";
import { imageChoice } from "../sandbox/launch-plan.ts";

export const sandboxBuild: Handler<"sandbox.build"> = async (params, call) => {
  const { daemon, notify } = call;
  if (!notify)
    throw new RpcError(
      "InvalidRequest",
      "sandbox.build streams progress; call it over the WebSocket",
    );
  let config: Awaited<ReturnType<typeof loadConfig>>["config"];
  try {
    config = (
      await loadConfig({
        cwd: params.cwd ?? daemon.homedir,
        env: daemon.env,
        homedir: daemon.homedir,
      })
    ).config;
  } catch (err) {
    if (err instanceof ConfigError)
      throw new RpcError("ConfigInvalid", err.message, { diagnostics: err.diagnostics });
    throw err;
  }
  const { runtime, agent } = imageChoice(config, { agent: params.agent, runtime: params.runtime });
  const images = daemon.backends.engine(runtime);
  daemon.log.info({ agent, runtime }, "building sandbox image");
  const progress = (line: string) => notify(BUILD_PROGRESS_NOTIFICATION, { line });
  if (params.withBase && !(await images.inspectImage(DEFAULT_BASE_IMAGE))) {
    try {
      await buildOfflineBase(images, daemon.env, progress);
    } catch (err) {
      throw new RpcError(
        "Unavailable",
        `building the offline base image failed: ${(err as Error).message}`,
      );
    }
  }
  try {
    const built = await buildSandboxImage({
      backend: images,
      agent,
      env: daemon.env,
      homedir: daemon.homedir,
      onProgress: (p) => {
        const line = p.error ?? p.line;
        if (line) notify(BUILD_PROGRESS_NOTIFICATION, { line });
      },
    });
    return { image: built.image, runtime, seconds: built.seconds };
  } catch (err) {
    throw new RpcError(
      "Unavailable",
      `building the ${agent} sandbox image with ${runtime} failed: ${(err as Error).message}`,
    );
  }
};
