import path from "node:path";
import { type ConfigDiagnostic, RpcError } from "@wm/protocol";
import { ConfigError, loadConfig } from "../config/index.ts";
import type { Handler } from "../rpc/dispatch.ts";
import { isUnknownSandboxKey } from "../sandbox/settings-check.ts";
import { recordedRoots } from "./config-get.ts";

/**
 * What the CLI prints on stderr before a command that reads config: the warnings of each file
 * not shown since the file last changed (the daemon remembers what it handed out). Invalid
 * files give none here: the command reading them fails and names what is wrong.
 */
export const configWarnings: Handler<"config.warnings"> = async (params, { daemon }) => {
  if (!path.isAbsolute(params.cwd)) {
    throw new RpcError("InvalidParams", `cwd must be an absolute path, got "${params.cwd}"`);
  }
  let warnings: readonly ConfigDiagnostic[];
  try {
    warnings = (
      await loadConfig({
        cwd: params.cwd,
        env: daemon.env,
        homedir: daemon.homedir,
        ...(await recordedRoots(daemon, params.cwd)),
      })
    ).warnings;
  } catch (err) {
    if (err instanceof ConfigError) return { warnings: [] };
    throw err;
  }
  // The command refuses these itself, naming them; as warnings they would say "ignored".
  if (params.startsAgent) warnings = warnings.filter((d) => !isUnknownSandboxKey(d));
  return { warnings: await daemon.shownConfigWarnings.unseen(warnings) };
};
