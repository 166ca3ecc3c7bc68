import type { SandboxSummary } from "@wm/protocol";

/** `3 denied`: the egress policy's denials of a sandbox under `network.policy: deny`. */
export const deniedText = (denied: number) => `${denied} denied`;

/**
 * A sandbox's network as `wm sandbox list` shows it: `open` (the engine's network, unfiltered),
 * `none` (a VM session: no network at all), or `deny` with its denials so far (`deny (3 denied)`).
 */
export function netCell(s: Pick<SandboxSummary, "runtime" | "egress">): string {
  if (s.egress) return s.egress.denied > 0 ? `deny (${deniedText(s.egress.denied)})` : "deny";
  return s.runtime === "vm" ? "none" : "open";
}

/**
 * The denials of every sandbox under `deny` in each worktree, by worktree path; worktrees with
 * none are left out.
 */
export function deniedByWorktree(
  sandboxes: readonly Pick<SandboxSummary, "worktree" | "egress">[],
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of sandboxes) {
    if (!s.egress || s.egress.denied === 0) continue;
    out.set(s.worktree, (out.get(s.worktree) ?? 0) + s.egress.denied);
  }
  return out;
}
