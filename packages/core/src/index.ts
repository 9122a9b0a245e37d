export * from "./names.js";
export * from "./wire.js";
export * from "./hash.js";
export * from "./manifest.js";
export * from "./lockfile.js";
export * from "./resolve.js";
export * from "./component.js";
export * from "./format.js";
