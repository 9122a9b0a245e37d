/** Stored records to the wire's version metadata (field names are the contract). */
import type { VersionMetadata } from "@wasm-registry/core";
import type { VersionRecord } from "./store/types.js";

/** A name as one URL path segment: `/` in the package part must not split the path. */
export function nameInUrl(name: string): string {
  return name.replaceAll("/", "%2F");
}

export function artifactPath(name: string, version: string): string {
  return `/packages/${nameInUrl(name)}/${version}/artifact.wasm`;
}

/** Where the registry serves a version's WIT when its publisher gave no wit_url. */
export function witPath(name: string, version: string): string {
  return `/packages/${nameInUrl(name)}/${version}/world.wit`;
}

export function toVersionMetadata(record: VersionRecord, publicUrl: string): VersionMetadata {
  return {
    name: record.name,
    version: record.version,
    description: record.description,
    license: record.license,
    repository: record.repository,
    size: record.size,
    sha256: record.sha256,
    download_url: publicUrl + artifactPath(record.name, record.version),
    wit_url: record.witUrl ?? (typeof record.wit === "string" ? publicUrl + witPath(record.name, record.version) : null),
    dependencies: record.dependencies,
    targets: record.targets,
    published_at: record.publishedAt,
    kind: record.kind ?? null,
    world: record.world ?? null,
    wit: record.wit ?? null,
    producers: record.producers ?? null,
    yanked: record.yanked,
  };
}
