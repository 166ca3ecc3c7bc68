/**
 * The one table of error codes. Codes are stable: scripts match on them.
 * -32700..-32600 are JSON-RPC's own; -32000..-32099 are wm's.
 */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  PayloadTooLarge: -32001,
  ForbiddenHost: -32002,
  ForbiddenOrigin: -32003,
  VersionMismatch: -32004,
  ShuttingDown: -32005,
  ConfigInvalid: -32006,
  NotFound: -32007,
  Refused: -32008,
  Unauthorized: -32009,
  Unavailable: -32010,
  Conflict: -32011,
  RateLimited: -32012,
  ConfirmationRequired: -32013,
} as const;

export type ErrorCodeName = keyof typeof ErrorCode;
export type ErrorCodeValue = (typeof ErrorCode)[ErrorCodeName];

export interface ErrorInfo {
  /** Default message when the thrower gives none. */
  readonly message: string;
  /** What the user (or the client program) should do next. */
  readonly hint: string;
}

export const errorInfo: Record<ErrorCodeName, ErrorInfo> = {
  ParseError: {
    message: "request body is not valid JSON",
    hint: "send one JSON-RPC 2.0 object (or an array of them) as the body",
  },
  InvalidRequest: {
    message: "not a JSON-RPC 2.0 request",
    hint: 'each request needs "jsonrpc": "2.0", a string "method" and an optional object "params"',
  },
  MethodNotFound: {
    message: "no such method",
    hint: "see docs/protocol.md for the methods this endpoint accepts",
  },
  InvalidParams: {
    message: "invalid params",
    hint: "error.data.issues lists each wrong field with its path",
  },
  InternalError: {
    message: "internal error",
    hint: "the daemon log (wm daemon logs) has the details; please report it",
  },
  PayloadTooLarge: {
    message: "request too large",
    hint: "error.data.limit gives the largest accepted size in bytes",
  },
  ForbiddenHost: {
    message: "Host header is not the daemon's own",
    hint: "connect through the daemon's socket with Host: localhost",
  },
  ForbiddenOrigin: {
    message: "WebSocket Origin is not allowed",
    hint: "browsers cannot talk to the daemon; use the wm CLI",
  },
  VersionMismatch: {
    message: "client and daemon speak different protocol versions",
    hint: "run `wm daemon restart` to start the daemon that matches this wm",
  },
  ShuttingDown: {
    message: "the daemon is shutting down",
    hint: "retry; the next wm command starts a new daemon",
  },
  ConfigInvalid: {
    message: "configuration is invalid",
    hint: "error.data names the file, key and line; fix it and retry",
  },
  NotFound: { message: "not found", hint: "check the name with the matching list command" },
  Refused: {
    message: "refused",
    hint: "this operation is not allowed from here; run it on the host",
  },
  Unauthorized: {
    message: "unauthorized",
    hint: "the credential presented does not belong to this endpoint",
  },
  Unavailable: {
    message: "a required service is unavailable",
    hint: "run `wm doctor` to see what is missing and how to fix it",
  },
  Conflict: { message: "conflict", hint: "the target already exists or is in use" },
  RateLimited: { message: "too many requests", hint: "slow down and retry" },
  ConfirmationRequired: {
    message: "the user must confirm this change first",
    hint: "error.data shows what would change; after the user agrees, call again with yes: true (and confirmed: error.data.digest)",
  },
};

const nameByCode = new Map<number, ErrorCodeName>(
  Object.entries(ErrorCode).map(([name, code]) => [code, name as ErrorCodeName]),
);

export function errorName(code: number): ErrorCodeName | undefined {
  return nameByCode.get(code);
}

export interface RpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** An error that crosses the wire: carries a stable code, a message and optional data. */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(code: ErrorCodeName | number, message?: string, data?: unknown) {
    const name = typeof code === "number" ? errorName(code) : code;
    super(message ?? (name ? errorInfo[name].message : `error ${code}`));
    this.name = "RpcError";
    this.code = typeof code === "number" ? code : ErrorCode[code];
    this.data = data;
  }

  /** The hint from the table for this code, if the code is one of ours. */
  get hint(): string | undefined {
    const name = errorName(this.code);
    return name ? errorInfo[name].hint : undefined;
  }

  is(name: ErrorCodeName): boolean {
    return this.code === ErrorCode[name];
  }

  toJSON(): RpcErrorObject {
    return this.data === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, data: this.data };
  }

  static fromObject(obj: RpcErrorObject): RpcError {
    return new RpcError(obj.code, obj.message, obj.data);
  }
}
