"""The bottom layer, imported by every other package and importing none of them: the error
type, the repository root, hashing and run manifests, the progress-callback protocol."""
