import { runShim } from "../main.ts";

// Bundled as CommonJS (no top-level await): see scripts/build.mjs.
runShim(process.argv.slice(2), process, process.env).then((code) => {
  process.exitCode = code;
});
