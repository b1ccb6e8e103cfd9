// Filled in by its owner; re-exported from the package index.
export {};
