import { RpcError } from "@wm/protocol/errors";
import { UsageError } from "../errors.ts";

/**
 * `wm merge` / `wm rm` without a name, run where no worktree wm manages is (the main worktree,
 * or outside any repository): the daemon's error becomes a usage error saying how to name one.
 * Any other error is returned as it is.
 */
export function withNameHint(err: unknown, command: string): unknown {
  const data = err instanceof RpcError ? (err.data as { reason?: unknown } | undefined) : undefined;
  if (data?.reason !== "no-current-worktree") return err;
  return new UsageError(
    (err as RpcError).message,
    `\`wm ${command} NAME\` names the worktree; \`wm list\` shows them`,
  );
}
