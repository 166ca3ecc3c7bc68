import { CONFIG_REFERENCE } from "@wm/daemon/config/reference";
import { ExitCode } from "../exit-codes.ts";
import { report } from "../output.ts";
import { defineCommand } from "./spec.ts";

export const configReferenceCommand = defineCommand({
  name: "reference",
  summary: "Print every config key with its type, default and what it does",
  description:
    "Lists every key wm accepts in config.yaml and .workmux.yaml (dotted paths; list items and map entries are described under their key), with its type, its default and a one-line description. No daemon is needed.",
  json: true,
  run: async (ctx) => {
    report(ctx, { keys: CONFIG_REFERENCE }, (r) =>
      r.keys
        .map((k) => `${k.key}  (${k.type}; default: ${k.default})\n    ${k.description}`)
        .join("\n"),
    );
    return ExitCode.Ok;
  },
});
