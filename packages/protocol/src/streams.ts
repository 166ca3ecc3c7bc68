/** Terminal variables a client may hand to its sandbox; nothing else of its environment crosses. */
export const CLIENT_ENV_ALLOWED = ["TERM", "COLORTERM", "LANG", "LC_ALL", "LC_CTYPE"] as const;

export const BUILD_PROGRESS_NOTIFICATION = "sandbox.buildProgress";
export const SANDBOX_EXIT_NOTIFICATION = "sandbox.exit";

/** First byte of a binary WebSocket frame: which stream the rest belongs to. */
export const StreamChannel = { Stdin: 0, Stdout: 1, Stderr: 2 } as const;

/**
 * Most calls one WebSocket connection may have in flight at the daemon; more are answered
 * RateLimited (with their id). Clients queue beyond it.
 */
export const WS_MAX_IN_FLIGHT = 32;
