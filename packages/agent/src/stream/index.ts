// Filled in by its owner.
export {};
