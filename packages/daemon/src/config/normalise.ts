import type { ConfigDiagnostic } from "@wm/protocol";
import type { Locator } from "./parse.ts";
import type { FileConfig } from "./schema.ts";
import { LEGACY_LIMA_KEYS } from "./schema-sandbox.ts";
import { THEME_SCHEMES } from "./schema-ui.ts";

/**
 * Moves legacy keys to their current places (`target` → `mode`, `pre_delete` → `pre_remove`,
 * flat `sandbox.runtime` / Lima keys → `sandbox.container` / `sandbox.lima`) and resolves
 * conflicts inside one file. A current key set beside its legacy form wins.
 */
export function normaliseFile(
  file: string,
  input: FileConfig,
  locate: Locator,
): { value: FileConfig; warnings: ConfigDiagnostic[] } {
  const warnings: ConfigDiagnostic[] = [];
  const warn = (path: string[], message: string) =>
    warnings.push({ file, key: path.join("."), ...locate(path, "key"), message });
  const { target, pre_delete, ...value }: FileConfig = structuredClone(input);

  if (target !== undefined) {
    if (value.mode === undefined) value.mode = target;
    warn(
      ["target"],
      value.mode === target
        ? `target was renamed to mode; write "mode: ${target}"`
        : "target was renamed to mode, and mode is also set here; target is ignored",
    );
  }
  if (pre_delete !== undefined) {
    const used = value.pre_remove === undefined;
    if (used) value.pre_remove = pre_delete;
    warn(
      ["pre_delete"],
      used
        ? "pre_delete is deprecated; rename it to pre_remove"
        : "pre_delete is deprecated and pre_remove is also set here; pre_delete is ignored",
    );
  }

  if (value.sandbox) {
    const { runtime, ...sandbox } = value.sandbox;
    if (runtime !== undefined) {
      const container = { ...sandbox.container };
      if (container.runtime === undefined) container.runtime = runtime;
      else if (container.runtime !== runtime) {
        warn(["sandbox", "runtime"], "ignored: sandbox.container.runtime is also set here");
      }
      sandbox.container = container;
    }
    const lima = { ...sandbox.lima };
    let flatLima = false;
    for (const key of LEGACY_LIMA_KEYS) {
      if (sandbox[key] === undefined) continue;
      flatLima = true;
      if (lima[key] === undefined) Object.assign(lima, { [key]: sandbox[key] });
      delete sandbox[key];
    }
    if (lima.isolation === "user") {
      lima.isolation = "shared";
      const nested = value.sandbox.lima?.isolation === "user";
      warn(
        nested ? ["sandbox", "lima", "isolation"] : ["sandbox", "isolation"],
        'isolation "user" was renamed to "shared"',
      );
    }
    if (flatLima || sandbox.lima) sandbox.lima = lima;
    value.sandbox = sandbox;
  }

  if (value.panes !== undefined && value.windows !== undefined) {
    warn(["panes"], "panes and windows are mutually exclusive; windows is used, panes ignored");
    delete value.panes;
  }

  const scheme = value.theme && "scheme" in value.theme ? value.theme.scheme : undefined;
  if (scheme !== undefined && !(THEME_SCHEMES as readonly string[]).includes(scheme)) {
    warn(["theme"], `unknown theme scheme "${scheme}"; the default scheme is used`);
  }
  return { value, warnings };
}
