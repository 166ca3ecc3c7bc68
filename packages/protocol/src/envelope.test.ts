import { describe, expect, it } from "vitest";
import { isWellFormedRequest, requestSchema } from "./envelope.ts";

const valid = { jsonrpc: "2.0", method: "daemon.status" };

/** Requests as clients send them. */
const accepted: Array<[string, unknown]> = [
  ["params and a number id", { ...valid, params: {}, id: 1 }],
  ["a string id", { ...valid, id: "a" }],
  ["a null id", { ...valid, id: null }],
  ["a negative id", { ...valid, id: -7 }],
  ["no id (a notification)", valid],
  ["no params", { ...valid, id: 2 }],
  ["params with nested values", { ...valid, params: { a: [1, { b: null }] }, id: 3 }],
  ["an extra member", { ...valid, id: 4, extra: true }],
  ["a method of 128 characters", { ...valid, method: "m".repeat(128) }],
  ["an id of 128 characters", { ...valid, id: "i".repeat(128) }],
];

/** Each way to get one wrong. */
const refused: Array<[string, unknown]> = [
  ["null", null],
  ["an array", [valid]],
  ["a string", "daemon.status"],
  ["a number", 1],
  ["no jsonrpc", { method: "daemon.status" }],
  ["jsonrpc 1.0", { ...valid, jsonrpc: "1.0" }],
  ["jsonrpc as a number", { ...valid, jsonrpc: 2 }],
  ["no method", { jsonrpc: "2.0" }],
  ["an empty method", { ...valid, method: "" }],
  ["a method of 129 characters", { ...valid, method: "m".repeat(129) }],
  ["a method that is a number", { ...valid, method: 1 }],
  ["params as an array", { ...valid, params: [1] }],
  ["params as null", { ...valid, params: null }],
  ["params as a string", { ...valid, params: "x" }],
  ["a fractional id", { ...valid, id: 1.5 }],
  ["an id past 2^53", { ...valid, id: 2 ** 53 }],
  ["an id that is an object", { ...valid, id: {} }],
  ["an id that is a boolean", { ...valid, id: true }],
  ["an id of 129 characters", { ...valid, id: "i".repeat(129) }],
];

/** As the daemon gets it: out of `JSON.parse`. */
const fromJson = (message: unknown): unknown => JSON.parse(JSON.stringify(message));

describe("isWellFormedRequest: the schema's answer without running the schema", () => {
  it.each(accepted)("recognises a request with %s, as requestSchema does", (_name, message) => {
    expect(requestSchema.safeParse(fromJson(message)).success).toBe(true);
    expect(isWellFormedRequest(fromJson(message))).toBe(true);
  });

  it.each(refused)("leaves %s to requestSchema, which refuses it", (_name, message) => {
    expect(isWellFormedRequest(fromJson(message))).toBe(false);
    expect(requestSchema.safeParse(fromJson(message)).success).toBe(false);
  });
});
