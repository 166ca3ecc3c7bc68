import {
  ErrorCode,
  failure,
  isMethodName,
  isWellFormedRequest,
  type JsonRpcFailure,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type MethodName,
  methods,
  type ParsedParams,
  PROTOCOL_VERSION,
  type RequestId,
  type Result,
  RpcError,
  requestSchema,
  type Surface,
  success,
  VERSION_STABLE_METHODS,
  WM_VERSION,
} from "@wm/protocol";
import type { z } from "zod";
import type { CallContext } from "../context.ts";

export type Handler<M extends MethodName> = (
  params: ParsedParams<M>,
  call: CallContext,
) => Promise<Result<M>> | Result<M>;

export type HandlerTable = { [M in MethodName]?: Handler<M> };

export interface DispatchOptions {
  surface: Surface;
  transport: "http" | "ws";
  /** Protocol version the client announced, if it did. */
  clientProtocol?: number | undefined;
}

function issuesOf(error: z.ZodError) {
  return error.issues.map((i) => ({ path: i.path.join("."), message: i.message, code: i.code }));
}

/** "field: what is wrong; …", `whole` standing for the path of the value itself. */
function describeIssues(error: z.ZodError, whole: string): string {
  return error.issues.map((i) => `${i.path.join(".") || whole}: ${i.message}`).join("; ");
}

/** The request in `message`, or the InvalidRequest answer naming what is wrong with it. */
function readRequest(message: unknown): JsonRpcRequest | JsonRpcFailure {
  // Every call passes here: a check that builds nothing; the schema runs to name the fault.
  if (isWellFormedRequest(message)) return message;
  const envelope = requestSchema.safeParse(message);
  if (envelope.success) return envelope.data;
  const rawId = (message as { id?: unknown } | null)?.id;
  const fallbackId: RequestId =
    typeof rawId === "string" || typeof rawId === "number" ? rawId : null;
  return failure(
    fallbackId,
    new RpcError(
      "InvalidRequest",
      `not a JSON-RPC 2.0 request: ${describeIssues(envelope.error, "(message)")}`,
      { issues: issuesOf(envelope.error) },
    ).toJSON(),
  );
}

function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  return new RpcError("InternalError");
}

/**
 * Validates one JSON-RPC message against the method table and runs its handler.
 * Returns undefined for notifications (no id). Never throws.
 */
export class Dispatcher {
  readonly #handlers: HandlerTable;

  constructor(handlers: HandlerTable) {
    this.#handlers = handlers;
  }

  async dispatch(
    message: unknown,
    call: CallContext,
    opts: DispatchOptions,
  ): Promise<JsonRpcResponse | undefined> {
    const req = readRequest(message);
    if ("error" in req) return req;
    const id = req.id ?? null;
    const isNotification = req.id === undefined;
    try {
      const result = await this.#run(req.method, req.params ?? {}, call, opts);
      return isNotification ? undefined : success(id, result);
    } catch (err) {
      const rpcErr = toRpcError(err);
      if (rpcErr.code === ErrorCode.InternalError) {
        call.daemon.log.error(
          { err, method: req.method, sandbox: call.sandbox?.id },
          "handler failed",
        );
      }
      return isNotification ? undefined : failure(id, rpcErr.toJSON());
    }
  }

  async #run(method: string, rawParams: unknown, call: CallContext, opts: DispatchOptions) {
    if (!isMethodName(method)) {
      throw new RpcError("MethodNotFound", `no method named "${method}"`, { method });
    }
    const spec = methods[method];
    const handler = this.#handlers[method] as Handler<MethodName> | undefined;
    if (!(spec.surfaces as readonly Surface[]).includes(opts.surface) || !handler) {
      throw new RpcError("MethodNotFound", `method "${method}" is not available here`, { method });
    }
    if (spec.stream && opts.transport !== "ws") {
      throw new RpcError(
        "InvalidRequest",
        `method "${method}" streams notifications; call it over the WebSocket at /ws`,
        { method },
      );
    }
    if (
      opts.clientProtocol !== undefined &&
      opts.clientProtocol !== PROTOCOL_VERSION &&
      !VERSION_STABLE_METHODS.has(method)
    ) {
      throw new RpcError(
        "VersionMismatch",
        `this wm speaks protocol ${opts.clientProtocol} but the running daemon (wm ${WM_VERSION}) speaks protocol ${PROTOCOL_VERSION}`,
        {
          daemonVersion: WM_VERSION,
          daemonProtocol: PROTOCOL_VERSION,
          clientProtocol: opts.clientProtocol,
        },
      );
    }
    if (call.daemon.shuttingDown && method !== "daemon.status" && method !== "daemon.shutdown") {
      throw new RpcError("ShuttingDown");
    }
    const parsed = spec.params.safeParse(rawParams);
    if (!parsed.success) {
      throw new RpcError(
        "InvalidParams",
        `invalid params for "${method}": ${describeIssues(parsed.error, "(params)")}`,
        { method, issues: issuesOf(parsed.error) },
      );
    }
    const result = await handler(parsed.data as never, call);
    // Not left to the handler's type: a wider object type-checks, and the schema is the
    // allow-list of what leaves the daemon (undeclared fields are dropped), with the checks
    // types cannot make (integers, bounds). Clients do not check results again.
    return spec.result.parse(result);
  }
}
