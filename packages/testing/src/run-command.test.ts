import { describe, expect, it } from "vitest";
import { runCommand } from "./run-command.ts";

describe("runCommand", () => {
  it("keeps both outputs and the exit code, feeding the input", async () => {
    const res = await runCommand("sh", ["-c", "cat; echo oops >&2; exit 3"], { input: "héllo" });
    expect(res).toEqual({ code: 3, stdout: "héllo", stderr: "oops\n", timedOut: false });
  });

  it("kills a program that outlives its time limit and says so", async () => {
    const res = await runCommand("sh", ["-c", "echo started; exec sleep 60"], { timeoutMs: 500 });
    expect(res).toMatchObject({ code: null, timedOut: true });
  });

  it("rejects when the program cannot be started", async () => {
    await expect(runCommand("/nonexistent/program", [])).rejects.toThrow(/ENOENT/);
  });
});
