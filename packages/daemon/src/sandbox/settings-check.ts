import { type ConfigDiagnostic, RpcError } from "@wm/protocol";
import type { EngineClient, RuntimeName } from "../backends/types.ts";
import type { LoadedConfig } from "../config/index.ts";
import { runtimeFor } from "./launch-plan.ts";

/** The sandbox backends wm has; `sandbox.backend` naming any other is refused. */
export const SANDBOX_BACKENDS: readonly string[] = ["container", "lima", "vm"];
/** The container engines wm talks to. */
export const CONTAINER_RUNTIMES: readonly RuntimeName[] = ["docker", "podman"];
/** Security options every sandbox has already (create-options.ts). */
const ALWAYS_APPLIED = new Set([
  "no-new-privileges",
  "no-new-privileges:true",
  "no-new-privileges=true",
]);

export function isUnknownSandboxKey(d: ConfigDiagnostic): boolean {
  return d.code === "unknown-key" && d.key.startsWith("sandbox.");
}

/** The file a key (or the nearest key above it) was set in. */
function fileOf(loaded: LoadedConfig, key: string): string {
  for (let k = key; k; k = k.includes(".") ? k.slice(0, k.lastIndexOf(".")) : "") {
    const file = loaded.sources[k];
    if (file) return file === "default" ? "wm's defaults" : file;
  }
  return "wm's defaults";
}

function position(d: ConfigDiagnostic): string {
  return d.line === undefined ? d.file : `${d.file}:${d.line}`;
}

/**
 * A key under `sandbox:` that wm does not know is most likely a misspelt one that was meant to
 * turn a sandbox on or narrow it; an agent is not started until it is fixed.
 */
export function refuseUnknownSandboxKeys(loaded: LoadedConfig): void {
  const unknown = loaded.warnings.filter(isUnknownSandboxKey);
  if (unknown.length === 0) return;
  const lines = unknown.map(
    (d) =>
      `  ${position(d)}: ${d.key} is not a sandbox setting${d.suggestion ? `; did you mean ${d.suggestion}?` : ""}`,
  );
  throw new RpcError(
    "ConfigInvalid",
    `no agent was started: a key under sandbox: is unknown, so the sandbox would not be the one asked for\n${lines.join("\n")}`,
    {
      diagnostics: unknown,
      hint: "fix or remove the key; `wm config` shows every key wm reads and its file",
    },
  );
}

interface Unhonoured {
  key: string;
  value: unknown;
  why: string;
}

function refusal(loaded: LoadedConfig, u: Unhonoured): RpcError {
  const file = fileOf(loaded, u.key);
  return new RpcError(
    "ConfigInvalid",
    `${u.key}: ${JSON.stringify(u.value)} (set in ${file}) cannot be honoured: ${u.why}; no sandbox was started`,
    {
      diagnostics: [
        { file, key: u.key, message: `${JSON.stringify(u.value)} cannot be honoured: ${u.why}` },
      ],
    },
  );
}

/** Settings wm reads without asking the engine, and which of their values it cannot honour. */
function unhonoured(loaded: LoadedConfig): Unhonoured[] {
  const { sandbox } = loaded.config;
  const out: Unhonoured[] = [];
  if (!SANDBOX_BACKENDS.includes(sandbox.backend)) {
    out.push({
      key: "sandbox.backend",
      value: sandbox.backend,
      why: `wm has no ${sandbox.backend} backend yet; the backends it has: ${SANDBOX_BACKENDS.join(", ")} (set sandbox.backend: container, or remove the key)`,
    });
  }
  const lima = sandbox.lima as { driver?: string } | undefined;
  if ((sandbox.backend === "lima" || sandbox.backend === "vm") && lima?.driver === "limactl") {
    out.push({
      key: "sandbox.lima.driver",
      value: "limactl",
      why: "the daemon does not drive Lima's own limactl yet (its adapter exists and is contract-tested only); remove the key to run the VM on wm's own QEMU runner",
    });
  }
  const runtime = sandbox.container.runtime;
  if (runtime !== undefined && !(CONTAINER_RUNTIMES as readonly string[]).includes(runtime)) {
    out.push({
      key: "sandbox.container.runtime",
      value: runtime,
      why: `wm talks to ${CONTAINER_RUNTIMES.join(" and ")} only (set sandbox.container.runtime, or the older sandbox.runtime, to one of them)`,
    });
  }
  if (
    sandbox.network.policy === "deny" &&
    (sandbox.backend === "lima" || sandbox.backend === "vm")
  ) {
    out.push({
      key: "sandbox.network.policy",
      value: "deny",
      why: "a VM sandbox has no network at all, so allowed_domains could not be reached; wm does not route a VM's egress through its proxy yet (use the container backend for policy: deny)",
    });
  }
  if (
    sandbox.network.policy === "deny" &&
    sandbox.rpc_transport === "tcp" &&
    sandbox.backend !== "lima" &&
    sandbox.backend !== "vm"
  ) {
    out.push({
      key: "sandbox.rpc_transport",
      value: "tcp",
      why: "under sandbox.network.policy: deny a sandbox has no network route to the daemon, so the in-sandbox wm could not reach it over TCP (use rpc_transport: socket, the default)",
    });
  }
  const securityOpt = (sandbox.container.security_opt ?? []).filter((o) => !ALWAYS_APPLIED.has(o));
  if (securityOpt.length > 0) {
    out.push({
      key: "sandbox.container.security_opt",
      value: securityOpt,
      why: "wm does not pass security options to the engine yet, so a seccomp, AppArmor or SELinux setting asked for here would not apply (every sandbox already runs with all capabilities dropped and no-new-privileges; remove the key to run with those)",
    });
  }
  const excluded = sandbox.container.excluded_files ?? [];
  if (excluded.length > 0) {
    out.push({
      key: "sandbox.container.excluded_files",
      value: excluded,
      why: "wm cannot hide files of the worktree from a sandbox yet, so these would be readable inside (remove the key, or move the files out of the worktree)",
    });
  }
  return out;
}

/**
 * Refuses, before anything is created, a sandbox the config asks for that wm cannot give as
 * asked: an unknown key under `sandbox:`, a backend or engine wm does not have, an OCI runtime
 * the engine does not know, or a setting that would narrow the sandbox and is not built.
 */
export async function assertSandboxHonoured(
  loaded: LoadedConfig,
  backend: (runtime: RuntimeName) => EngineClient,
): Promise<void> {
  refuseUnknownSandboxKeys(loaded);
  const [first] = unhonoured(loaded);
  if (first) throw refusal(loaded, first);
  const { container } = loaded.config.sandbox;
  const oci = container.oci_runtime;
  if (oci === undefined) return;
  const runtime = runtimeFor(loaded.config);
  let known: string[];
  try {
    known = await backend(runtime).runtimes();
  } catch (err) {
    throw new RpcError(
      "Unavailable",
      `sandbox.container.oci_runtime is set (in ${fileOf(loaded, "sandbox.container.oci_runtime")}), and ${runtime} could not be asked which OCI runtimes it has: ${(err as Error).message}; no sandbox was started`,
    );
  }
  if (!known.includes(oci)) {
    throw refusal(loaded, {
      key: "sandbox.container.oci_runtime",
      value: oci,
      why: `${runtime} has no OCI runtime named ${JSON.stringify(oci)}; the runtimes it has: ${known.join(", ") || "(none listed)"} (install and register the runtime with the engine, or change the key)`,
    });
  }
}
