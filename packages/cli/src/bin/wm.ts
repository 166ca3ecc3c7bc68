import { run } from "../main.ts";

// No top-level await: the build makes this file CommonJS (dist/wm.cjs, which also holds the code
// every command shares; the command files require it; see scripts/cli-startup.mjs).
void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // Leave once stdout and stderr have drained, skipping the heap teardown of a natural exit
  // (a few ms of every one-shot command; docs/performance.md).
  process.stdout.write("", () => process.stderr.write("", () => process.exit()));
});
