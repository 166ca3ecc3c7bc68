export { type AgentName, assertKnownAgent, isKnownAgent, KNOWN_AGENTS } from "./agents.ts";
export {
  type BuildSandboxImageOptions,
  type BuiltSandboxImage,
  buildSandboxImage,
} from "./build-sandbox-image.ts";
export { checkImage, type ImageCheck } from "./check-image.ts";
export { agentCacheDir, claudePackageName } from "./claude-package.ts";
export { renderDockerfile } from "./dockerfile.ts";
export {
  BASE_IMAGE_VERSION,
  DEFAULT_BASE_IMAGE,
  SANDBOX_IMAGE_VERSION,
  sandboxImageLabels,
  sandboxImageName,
} from "./image-labels.ts";
export { customDockerfile, initDockerfile } from "./init-dockerfile.ts";
