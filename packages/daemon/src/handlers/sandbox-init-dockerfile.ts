import path from "node:path";
import { RpcError } from "@wm/protocol";
import { DockerfileExistsError, initDockerfile } from "../images/init-dockerfile.ts";
import type { Handler } from "../rpc/dispatch.ts";

export const sandboxInitDockerfile: Handler<"sandbox.initDockerfile"> = async (params) => {
  try {
    const agent = params.agent ?? "claude";
    return { file: await initDockerfile(path.resolve(params.dir), { agent, force: params.force }) };
  } catch (err) {
    if (err instanceof DockerfileExistsError) throw new RpcError("Conflict", err.message);
    if (err instanceof Error && /unknown agent|not a known agent/i.test(err.message))
      throw new RpcError("InvalidParams", err.message);
    throw err;
  }
};
