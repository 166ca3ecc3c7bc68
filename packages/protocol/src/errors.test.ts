import { describe, expect, it } from "vitest";
import { ErrorCode, errorInfo, RpcError } from "./errors.ts";

describe("error table", () => {
  it("has unique codes, a message and a hint for each", () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const name of Object.keys(ErrorCode) as Array<keyof typeof ErrorCode>) {
      expect(errorInfo[name].message.length).toBeGreaterThan(0);
      expect(errorInfo[name].hint.length).toBeGreaterThan(0);
    }
  });

  it("serialises to a JSON-RPC error object and back", () => {
    const err = new RpcError("InvalidParams", "cwd must be a string", {
      issues: [{ path: "cwd" }],
    });
    expect(err.toJSON()).toEqual({
      code: -32602,
      message: "cwd must be a string",
      data: { issues: [{ path: "cwd" }] },
    });
    const back = RpcError.fromObject(err.toJSON());
    expect(back.is("InvalidParams")).toBe(true);
    expect(back.hint).toContain("issues");
  });

  it("uses the table's message when none is given", () => {
    expect(new RpcError("VersionMismatch").message).toBe(errorInfo.VersionMismatch.message);
  });
});
