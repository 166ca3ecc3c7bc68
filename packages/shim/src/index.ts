export { readEndpoint } from "./endpoint.ts";
export { HOST_ONLY, runShim } from "./main.ts";
