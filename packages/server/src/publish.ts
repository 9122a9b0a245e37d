/**
 * The publish pipeline, top to bottom: who is asking, stream the upload in
 * while hashing it, check the fields and the digest, inspect the bytes (a
 * valid component, or a core module published for wasm32-wasip1), store them, then
 * commit the version in one transaction. A refusal at any step leaves the
 * store as it was; a crash leaves at most an unreferenced blob, never a
 * version without its bytes.
 */
import fs from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import type { Authenticator } from "./auth.js";
import { RegistryError, badRequest, conflict, tooLarge } from "./errors.js";
import { parsePublishFields } from "./publish-fields.js";
import type { Stores } from "./store/index.js";
import type { VersionRecord } from "./store/types.js";
import { FILE_FIELDS, MULTIPART_OVERHEAD_BYTES, receiveUpload } from "./upload.js";
import { type Inspector, InspectionRefused } from "./inspector.js";

/** The target under which a core module (not a component) may be published. */
export const CORE_MODULE_TARGET = "wasm32-wasip1";

export class Publisher {
  constructor(
    private readonly stores: Stores,
    private readonly auth: Authenticator,
    private readonly maxUploadBytes: number,
    private readonly inspector: Inspector,
    /** Charges a publish to its token's rate budget; throws a 429 over it. */
    private readonly publishBudget?: (tokenId: string) => Promise<void>,
  ) {}

  async publish(request: IncomingMessage): Promise<VersionRecord> {
    const identity = await this.auth.identify(request.headers.authorization);
    await this.publishBudget?.(identity.tokenId);

    const declaredLength = Number(request.headers["content-length"]);
    if (declaredLength > this.maxUploadBytes + MULTIPART_OVERHEAD_BYTES) throw tooLarge(this.maxUploadBytes);
    if (!/^multipart\/form-data/i.test(request.headers["content-type"] ?? "")) {
      throw new RegistryError(
        415,
        "unsupported_content_type",
        "publish with Content-Type multipart/form-data: the component in a file field named component (or artifact) and the metadata as text fields",
      );
    }

    const upload = await receiveUpload(request, {
      stagingDir: this.stores.blobs.stagingDir,
      maxFileBytes: this.maxUploadBytes,
    });
    try {
      const fields = parsePublishFields(upload.fields);
      this.auth.authorize(identity, fields.namespace, "publish");
      const file = upload.file;
      if (!file) {
        throw badRequest("missing_file", `no component file was sent; attach it in the field "${FILE_FIELDS[0]}" (or "${FILE_FIELDS[1]}")`);
      }
      if (file.size === 0) throw badRequest("empty_file", "the component file is empty");
      if (fields.sha256 !== undefined && fields.sha256 !== file.sha256) {
        throw badRequest(
          "sha256_mismatch",
          `the upload's SHA-256 is ${file.sha256}, not the ${fields.sha256} that was sent; the file was changed or cut short on the way, try again`,
        );
      }
      const existsMessage = `${fields.name}@${fields.version} already exists; published versions are immutable, so publish a new version`;
      if (await this.stores.metadata.getVersion(fields.name, fields.version)) throw conflict("version_exists", existsMessage);

      // Last of the checks: the others are cheaper, and a refusal should cost little.
      const info = await this.inspect(file.path);
      if (info.kind === "module" && !fields.targets.includes(CORE_MODULE_TARGET)) {
        throw badRequest(
          "core_module",
          `the file is a core WebAssembly module, not a component. Make a component of it with ` +
            `"jco new module.wasm --wasi-reactor -o component.wasm" (or "wasm-tools component new module.wasm ` +
            `--adapt wasi_snapshot_preview1.reactor.wasm -o component.wasm"), or publish it as a core module ` +
            `with targets ["${CORE_MODULE_TARGET}"]`,
        );
      }

      await this.stores.blobs.putFile(file.sha256, file.path);
      const record: VersionRecord = {
        name: fields.name,
        version: fields.version,
        description: fields.description,
        license: fields.license,
        repository: fields.repository,
        size: file.size,
        sha256: file.sha256,
        witUrl: fields.witUrl,
        dependencies: fields.dependencies,
        targets: fields.targets,
        publishedAt: Math.floor(Date.now() / 1000),
        kind: info.kind,
        world: info.world,
        wit: info.wit,
        yanked: false,
      };
      if (info.producers) record.producers = info.producers;
      // The unique (package, version) key picks one winner when two publishes race.
      if (!(await this.stores.metadata.insertVersion(record))) throw conflict("version_exists", existsMessage);
      this.auth.used(identity);
      return record;
    } finally {
      if (upload.file) await fs.rm(upload.file.path, { force: true });
    }
  }

  private async inspect(path: string) {
    try {
      return await this.inspector.inspectFile(path);
    } catch (error) {
      if (!(error instanceof InspectionRefused)) throw error;
      const code = { not_wasm: "not_wasm", truncated: "truncated_wasm", invalid: "invalid_component", timeout: "inspection_timeout" }[error.problem];
      throw badRequest(code, `${error.message}; publish a WebAssembly component (for example one built with "run v2 build")`);
    }
  }
}
