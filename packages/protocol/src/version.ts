/** Version of wm itself; the CLI, daemon and shim of one build share it. */
export const WM_VERSION = "0.1.0";

/**
 * Version of the wire protocol. Bump it whenever a method's params or result change
 * in a way an older peer would misread. `daemon.status` and `daemon.shutdown` keep
 * their shape across versions so that any client can inspect and restart any daemon.
 */
export const PROTOCOL_VERSION = 1;

/** Headers every client sends so the daemon can refuse a peer it would misunderstand. */
export const VERSION_HEADER = "x-wm-version";
export const PROTOCOL_HEADER = "x-wm-protocol";
