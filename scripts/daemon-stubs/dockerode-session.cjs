// Stands in for dockerode's lib/session.js in the daemon bundle (scripts/daemon-bundle.mjs): a
// BuildKit session (`buildImage` with `version: "2"`) needs gRPC and protobuf, which dockerode
// loads at the daemon's start, and dockerode's .proto files, which the bundle does not carry. wm
// builds images with the classic builder (`version: "1"`).
module.exports = function withSession(_docker, _auth, handler) {
  handler(
    new Error(
      'BuildKit builds (buildImage version "2") are not part of the wm daemon; it builds with the classic builder (version "1")',
    ),
    null,
    () => undefined,
  );
};
