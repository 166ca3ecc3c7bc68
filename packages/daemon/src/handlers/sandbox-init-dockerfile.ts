import path from "node:path";
import { RpcError } from "@wm/protocol";
import { initDockerfile } from "../images/init-dockerfile.ts";
import type { Handler } from "../rpc/dispatch.ts";

export const sandboxInitDockerfile: Handler<"sandbox.initDockerfile"> = async (params) => {
  try {
    return await initDockerfile(path.resolve(params.dir), {
      agent: params.agent ?? "claude",
      force: params.force,
    });
  } catch (err) {
    const message = (err as Error).message;
    if (/already exists/.test(message)) throw new RpcError("Conflict", message);
    if (/does not exist|unknown agent/.test(message)) throw new RpcError("InvalidParams", message);
    throw err;
  }
};
