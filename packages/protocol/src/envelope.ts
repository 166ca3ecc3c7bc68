import { z } from "zod";
import type { RpcErrorObject } from "./errors.ts";

export const requestIdSchema = z.union([z.string().max(128), z.number().int(), z.null()]);
export type RequestId = z.infer<typeof requestIdSchema>;

/** JSON-RPC 2.0 request or notification (no id). Params must be by-name. */
export const requestSchema = z.object({
  jsonrpc: z.literal("2.0"),
  method: z.string().min(1).max(128),
  params: z.record(z.string(), z.unknown()).optional(),
  id: requestIdSchema.optional(),
});
export type JsonRpcRequest = z.infer<typeof requestSchema>;

/**
 * True for a well-formed request, checked without building a parse result: every call passes
 * here. Of the values `JSON.parse` makes, it accepts only what `requestSchema` accepts; what it
 * does not recognise goes to `requestSchema`, which names what is wrong.
 */
export function isWellFormedRequest(message: unknown): message is JsonRpcRequest {
  if (typeof message !== "object" || message === null || Array.isArray(message)) return false;
  const { jsonrpc, method, params, id } = message as Record<string, unknown>;
  if (jsonrpc !== "2.0") return false;
  if (typeof method !== "string" || method.length === 0 || method.length > 128) return false;
  if (params !== undefined && !isPlainObject(params)) return false;
  return (
    id === undefined ||
    id === null ||
    (typeof id === "string" && id.length <= 128) ||
    Number.isSafeInteger(id)
  );
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== "object" || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export interface JsonRpcSuccess {
  jsonrpc: "2.0";
  id: RequestId;
  result: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: "2.0";
  id: RequestId;
  error: RpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;

export interface JsonRpcNotification {
  jsonrpc: "2.0";
  method: string;
  params?: Record<string, unknown>;
}

export function success(id: RequestId, result: unknown): JsonRpcSuccess {
  return { jsonrpc: "2.0", id, result };
}

export function failure(id: RequestId, error: RpcErrorObject): JsonRpcFailure {
  return { jsonrpc: "2.0", id, error };
}

export function isFailure(r: JsonRpcResponse): r is JsonRpcFailure {
  return "error" in r;
}
