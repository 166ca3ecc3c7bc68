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
