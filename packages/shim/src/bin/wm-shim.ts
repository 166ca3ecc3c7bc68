import { runShim } from "../main.ts";

process.exitCode = await runShim(process.argv.slice(2), process, process.env);
