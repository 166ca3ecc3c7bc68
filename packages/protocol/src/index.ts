export * from "./envelope.ts";
export * from "./errors.ts";
export * from "./method.ts";
export * from "./methods/index.ts";
export * from "./paths.ts";
export * from "./streams.ts";
export * from "./text.ts";
export * from "./version.ts";
