/**
 * Reads a multipart publish request: text fields into memory (each bounded),
 * the one file streamed to a staged file while it is hashed, never held whole.
 */
import { createHash, randomUUID } from "node:crypto";
import fs from "node:fs/promises";
import type { IncomingMessage } from "node:http";
import path from "node:path";
import busboy from "busboy";
import { RegistryError, badRequest, diskFull, tooLarge } from "./errors.js";
import { bodyBytesConsumed } from "./read-buffers.js";

/** Form fields that may carry the component: the Rust client's name, then the seed's curl example. */
export const FILE_FIELDS = ["component", "artifact"] as const;
export const MAX_FIELD_BYTES = 64 * 1024;
const MAX_FIELDS = 32;
const MAX_FIELD_NAME_BYTES = 100;
/** Room for the text fields around the file when judging Content-Length before reading. */
export const MULTIPART_OVERHEAD_BYTES = 1024 * 1024;

export interface StagedFile {
  path: string;
  sha256: string;
  size: number;
}

export interface ReceivedUpload {
  fields: Map<string, string>;
  file: StagedFile | undefined;
}

export interface UploadLimits {
  stagingDir: string;
  maxFileBytes: number;
}

/**
 * Resolves once the whole body is read. On any refusal it rejects with a
 * RegistryError, stops reading the body, and leaves no staged file behind.
 */
export function receiveUpload(request: IncomingMessage, limits: UploadLimits): Promise<ReceivedUpload> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({
      headers: request.headers,
      // busboy reports a value that reaches its size limit, which it cannot tell from one that
      // passes it: one byte more lets a value of exactly the allowed size through.
      limits: {
        fieldSize: MAX_FIELD_BYTES + 1,
        fieldNameSize: MAX_FIELD_NAME_BYTES,
        fields: MAX_FIELDS,
        files: FILE_FIELDS.length,
        fileSize: limits.maxFileBytes + 1,
        parts: MAX_FIELDS + FILE_FIELDS.length,
      },
    });
  } catch (error) {
    return Promise.reject(badRequest("bad_multipart", `the body is not readable multipart/form-data: ${(error as Error).message}`));
  }

  return new Promise<ReceivedUpload>((resolve, reject) => {
    const fields = new Map<string, string>();
    let staged: Promise<StagedFile> | undefined;
    let stagedPath: string | undefined;
    let fileStream: NodeJS.ReadableStream & { destroy(): void } | undefined;
    let failure: RegistryError | undefined;

    const fail = (error: RegistryError) => {
      if (failure) return;
      failure = error;
      request.unpipe(parser);
      // Stop the file writer now: the rest of the body will never arrive.
      fileStream?.destroy();
      const cleanup = stagedPath ? fs.rm(stagedPath, { force: true }) : Promise.resolve();
      // Wait for the file writer to stop before removing what it wrote.
      Promise.allSettled([staged]).then(() => cleanup).finally(() => reject(error));
    };

    parser.on("field", (name, value, info) => {
      if (failure) return;
      // busboy flags long names only in urlencoded forms; in multipart the name comes whole from a part header.
      if (info.nameTruncated || Buffer.byteLength(name ?? "") > MAX_FIELD_NAME_BYTES) {
        return fail(badRequest("bad_field", `a form field name is longer than ${MAX_FIELD_NAME_BYTES} bytes`));
      }
      if (info.valueTruncated) {
        return fail(badRequest("field_too_long", `the field "${name}" is longer than ${MAX_FIELD_BYTES / 1024} KiB`));
      }
      if (fields.has(name)) return fail(badRequest("duplicate_field", `the field "${name}" is given more than once`));
      fields.set(name, value);
    });

    parser.on("file", (name, stream, _info) => {
      if (failure) {
        stream.resume();
        return;
      }
      if (!(FILE_FIELDS as readonly string[]).includes(name)) {
        stream.resume();
        return fail(
          badRequest("unexpected_file", `a file came in the field "${name}"; send the component in the field "component" or "artifact"`),
        );
      }
      if (staged) {
        stream.resume();
        return fail(badRequest("duplicate_file", "more than one component file was sent; send exactly one"));
      }
      fileStream = stream;
      // Errors reach stageFile through its loop; this keeps late ones from being uncaught.
      stream.on("error", () => {});
      // Refuse as soon as the limit is passed, rather than read the rest of a huge body.
      stream.on("limit", () => fail(tooLarge(limits.maxFileBytes)));
      stagedPath = path.join(limits.stagingDir, `upload-${randomUUID()}.part`);
      staged = stageFile(stream, stagedPath, limits.maxFileBytes);
      staged.catch((error) => fail(error instanceof RegistryError ? error : internalUploadError(error)));
    });

    parser.on("fieldsLimit", () => fail(badRequest("too_many_fields", `more than ${MAX_FIELDS} form fields were sent`)));
    parser.on("partsLimit", () => fail(badRequest("too_many_fields", "the form has too many parts")));
    parser.on("filesLimit", () => fail(badRequest("duplicate_file", "more than one component file was sent; send exactly one")));
    parser.on("error", (error: Error) => fail(badRequest("bad_multipart", `the multipart body is malformed: ${error.message}`)));
    request.on("error", () => fail(badRequest("aborted", "the upload was interrupted before it ended")));
    request.on("aborted", () => fail(badRequest("aborted", "the upload was interrupted before it ended")));

    parser.on("close", () => {
      if (failure) return;
      Promise.resolve(staged).then(
        (file) => {
          if (!failure) resolve({ fields, file });
        },
        () => {},
      );
    });

    request.pipe(parser);
  });
}

/** Writes a file part to disk while hashing it; the file is synced before this resolves. */
async function stageFile(stream: NodeJS.ReadableStream & { truncated?: boolean }, target: string, maxBytes: number): Promise<StagedFile> {
  const hash = createHash("sha256");
  let size = 0;
  const out = await fs.open(target, "wx");
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      hash.update(chunk);
      size += chunk.length;
      await out.write(chunk);
      bodyBytesConsumed(chunk.length);
    }
    if (stream.truncated || size > maxBytes) throw tooLarge(maxBytes);
    await out.sync();
  } finally {
    await out.close();
  }
  return { path: target, sha256: hash.digest("hex"), size };
}

/** A file system error is the registry's fault; anything else came from a malformed body. */
function internalUploadError(error: unknown): RegistryError {
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (syscall === undefined) {
    return badRequest("bad_multipart", `the multipart body is malformed: ${(error as Error).message}`);
  }
  if (code === "ENOSPC" || code === "EDQUOT") return diskFull();
  return new RegistryError(500, "upload_failed", `the upload could not be written: ${(error as Error).message}`);
}
