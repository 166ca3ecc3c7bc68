import type { Backends } from "../backends/backend-set.ts";
import type { SandboxInfo } from "../backends/sandbox-backend.ts";
import type { RuntimeName } from "../backends/types.ts";
import type { Logger } from "../log.ts";

export interface Unrecorded {
  runtime: RuntimeName;
  sandboxes: SandboxInfo[];
}

/**
 * Sandboxes labelled as this daemon's (`ownLabels`) that no record explains, per backend that
 * answers: Docker's always, and every other one the daemon has connected to.
 */
export async function unrecordedSandboxes(
  backends: Pick<Backends, "connected" | "sandbox">,
  ownLabels: Readonly<Record<string, string>>,
  recorded: ReadonlySet<string | null>,
): Promise<Unrecorded[]> {
  const out: Unrecorded[] = [];
  for (const runtime of new Set<RuntimeName>(["docker", ...backends.connected()])) {
    const listed = await backends
      .sandbox(runtime)
      .listOwned(ownLabels)
      .catch(() => undefined);
    if (listed) out.push({ runtime, sandboxes: listed.filter((s) => !recorded.has(s.handle)) });
  }
  return out;
}

/** Removes unrecorded sandboxes; `keepRunning` spares live ones (at start). Their names. */
export async function removeOrphans(
  backends: Pick<Backends, "sandbox">,
  unrecorded: readonly Unrecorded[],
  opts: { keepRunning: boolean; log: Logger },
): Promise<string[]> {
  const removed: string[] = [];
  for (const { runtime, sandboxes } of unrecorded) {
    for (const s of sandboxes) {
      if (opts.keepRunning && s.running) continue;
      await backends
        .sandbox(runtime)
        .remove(s.handle)
        .catch(() => undefined);
      removed.push(s.name);
    }
  }
  if (removed.length > 0) opts.log.info({ removed }, "removed containers no record explains");
  return removed;
}
