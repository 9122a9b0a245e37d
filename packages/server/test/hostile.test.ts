/**
 * Hostile input: hundreds of generated bad requests against one registry.
 * Every one gets a 4xx in the error shape (JSON; the HTML pages answer with an
 * HTML error page), none a 5xx; the server stays up; and the store is byte for
 * byte what it was before.
 *
 * The component inspector's fuzzing belongs with the inspector
 * (packages/core/src/component.ts), which is not in this tree yet.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sha256Hex } from "@wasm-registry/core";
import { ADMIN_TOKEN, ALICE_TOKEN, type RunningRegistry, componentBytes, publish, snapshotStore, startRegistry } from "../testkit/helpers.js";
import { rawRequest } from "../testkit/raw-http.js";

interface Part {
  name: string;
  value: string | Uint8Array;
  /** Set for a file part. */
  filename?: string;
}

const BOUNDARY = "----hostile7MA4YWxkTrZu0gW";
const GOOD_FILE = componentBytes(900);

function multipart(parts: Part[], boundary = BOUNDARY): Buffer {
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ""}`;
    const type = part.filename !== undefined ? "\r\nContent-Type: application/wasm" : "";
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: ${disposition}${type}\r\n\r\n`));
    chunks.push(Buffer.from(part.value));
    chunks.push(Buffer.from("\r\n"));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return Buffer.concat(chunks);
}

/** A publish form that is valid except for what `change` does to its fields. */
function form(fields: Record<string, string | undefined>, file: Uint8Array | null = GOOD_FILE, fileField = "component"): Part[] {
  const base: Record<string, string | undefined> = { name: "alice:calc", version: "9.9.9", ...fields };
  const parts: Part[] = Object.entries(base)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => ({ name, value }));
  if (file) parts.push({ name: fileField, value: file, filename: "c.wasm" });
  return parts;
}

interface Case {
  label: string;
  request: Buffer;
  /** Page routes answer errors as HTML pages; everything else as JSON. */
  html?: boolean;
}

function post(body: Buffer, headers: Record<string, string> = {}): Buffer {
  const head = {
    host: "localhost",
    authorization: `Bearer ${ADMIN_TOKEN}`,
    "content-type": `multipart/form-data; boundary=${BOUNDARY}`,
    "content-length": String(body.length),
    connection: "close",
    ...headers,
  };
  const lines = Object.entries(head)
    .filter(([, value]) => value !== "")
    .map(([key, value]) => `${key}: ${value}`);
  return Buffer.concat([Buffer.from(`POST /api/v1/packages HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`), body]);
}

function get(target: string, headers: Record<string, string> = {}): Buffer {
  const lines = Object.entries({ host: "localhost", connection: "close", ...headers }).map(([k, v]) => `${k}: ${v}`);
  return Buffer.from(`GET ${target} HTTP/1.1\r\n${lines.join("\r\n")}\r\n\r\n`, "latin1");
}

function cases(): Case[] {
  const all: Case[] = [];
  const add = (label: string, request: Buffer, html = false) => all.push({ label, request, html });
  const publishForm = (label: string, parts: Part[], headers: Record<string, string> = {}) => add(label, post(multipart(parts), headers));

  // Names: uppercase, dot-dot, NUL, homoglyphs (Cyrillic а, Greek ο), and other shapes.
  const names = [
    "Alice:calc", "alice:Calc", "ALICE:CALC", "alice:..", "..:calc", "alice:../../etc/passwd", "alice:calc/..", "alice:ca\0lc",
    "\0alice:calc", "аlice:calc", "alice:cаlc", "alice:cοlc", "alice:calc\u200b", "alice calc", "alice:", ":calc", "alice",
    "alice::calc", "alice:calc:x", "alice:-calc", "alice:calc-", "alice:1calc", "alice:ca--lc", "alice:calc%00",
    "alice:calc;drop table packages", "alice:calc\nx", "a".repeat(300) + ":x", "alice:" + "b".repeat(5000), "ａlice:calc", "alice:cal\u0441",
  ];
  for (const name of names) publishForm(`name ${JSON.stringify(name).slice(0, 40)}`, form({ name }));

  // Versions: not semver, tags, absurd lengths.
  const versions = [
    "latest", "LATEST", "stable", "1.0", "1", "v1.0.0", "=1.0.0", "01.0.0", "1.0.0-", "1.0.0-01", "1.0.0 ", " 1.0.0a", "1.0.0\0",
    "1..0", "-1.0.0", "1.0.0-beta..1", "1.0.x", "^1.0.0", "1.0.0 || 2.0.0", "9".repeat(400) + ".0.0", "1.0.0-" + "a".repeat(300),
    "١.٠.٠", "1.0.0/../../x", "",
  ];
  for (const version of versions) publishForm(`version ${JSON.stringify(version).slice(0, 40)}`, form({ version }));

  // Dependencies and targets: malformed JSON and wrong shapes.
  const dependencies = [
    "not json", "{", "{}", "null", "1", '"x"', "[1]", "[null]", "[[]]", '[{"name":"Alice:x","version":"^1"}]',
    '[{"name":"alice:x"}]', '[{"version":"^1.0.0"}]', '[{"name":"alice:x","version":"not a range"}]',
    '[{"name":"alice:x","version":""}]', '[{"name":"alice:x","version":"^1","optional":"yes"}]',
    '[{"name":"alice:x","version":"^1"},{"name":"alice:x","version":"^2"}]', '[{"name":"alice:x","version":1}]',
    '[{"name":"аlice:x","version":"^1"}]', '[{"name":"../x","version":"^1"}]',
    JSON.stringify(Array.from({ length: 501 }, (_, i) => ({ name: `dep:p${String.fromCharCode(97 + (i % 26))}${i}`.replace(/\d/g, "x"), version: "*" }))),
    "[" + "[".repeat(5000) + "]".repeat(5000) + "]",
  ];
  for (const value of dependencies) publishForm(`dependencies ${value.slice(0, 30)}`, form({ dependencies: value }));
  const targets = ['"wasm32-wasip2"', "{}", "[1]", '["WASM32"]', '[""]', '["../x"]', '["a b"]', '["x\\u0000"]', "[null]",
    JSON.stringify(Array.from({ length: 33 }, (_, i) => `t${i}`)), JSON.stringify(["a".repeat(100)]), "nope"];
  for (const value of targets) publishForm(`targets ${value.slice(0, 30)}`, form({ targets: value }));

  // Other fields.
  for (const repository of ["javascript:alert(1)", "not a url", "ftp://x", "file:///etc/passwd", "data:text/html,x"]) {
    publishForm(`repository ${repository}`, form({ repository }));
    publishForm(`wit_url ${repository}`, form({ wit_url: repository }));
  }
  const wrongHash = sha256Hex(componentBytes(901));
  for (const sha256 of [wrongHash, `sha256:${wrongHash}`, "zz", "a".repeat(63), "a".repeat(65), "g".repeat(64), "0x" + "a".repeat(62)]) {
    publishForm(`sha256 ${sha256.slice(0, 20)}`, form({ sha256 }));
  }
  for (const big of ["description", "license", "name", "version"]) {
    publishForm(`oversized ${big}`, form({ [big]: "x".repeat(70 * 1024) }));
  }

  // Missing and duplicated fields and files.
  publishForm("no name", form({ name: undefined }));
  publishForm("no version", form({ version: undefined }));
  publishForm("no file", form({}, null));
  publishForm("empty file", form({}, new Uint8Array()));
  publishForm("file in the wrong field", form({}, GOOD_FILE, "wasm"));
  publishForm("name twice", [...form({}), { name: "name", value: "alice:other" }]);
  publishForm("version twice", [{ name: "version", value: "1.0.0" }, ...form({})]);
  publishForm("two files", [...form({}), { name: "artifact", value: GOOD_FILE, filename: "d.wasm" }]);
  publishForm("two component files", [...form({}), { name: "component", value: GOOD_FILE, filename: "d.wasm" }]);
  publishForm("too many fields", [...form({}), ...Array.from({ length: 40 }, (_, i) => ({ name: `extra${i}`, value: "x" }))]);
  publishForm("long field name", [...form({}), { name: "n".repeat(200), value: "x" }]);
  publishForm("the existing version again", form({ version: "1.0.0" }, componentBytes(902)));
  publishForm("the existing version, same bytes", form({ version: "1.0.0" }, componentBytes(1)));

  // Who is asking.
  publishForm("no token", form({}), { authorization: "" });
  publishForm("unknown token", form({}), { authorization: "Bearer not-a-token-we-know" });
  publishForm("not bearer", form({}), { authorization: `Basic ${Buffer.from("a:b").toString("base64")}` });
  publishForm("bearer with nothing", form({}), { authorization: "Bearer " });
  publishForm("other namespace", form({ name: "bob:calc" }), { authorization: `Bearer ${ALICE_TOKEN}` });

  // Malformed and truncated multipart bodies, wrong content types.
  const good = multipart(form({ version: "9.9.8" }));
  for (let cut = 1; cut < good.length; cut += Math.ceil(good.length / 40)) {
    add(`truncated at ${cut}`, post(good.subarray(0, cut)));
  }
  add("boundary mismatch", post(multipart(form({}), "other-boundary")));
  add("no boundary", post(good, { "content-type": "multipart/form-data" }));
  add("empty boundary", post(good, { "content-type": "multipart/form-data; boundary=" }));
  add("boundary too long", post(good, { "content-type": `multipart/form-data; boundary=${"b".repeat(200)}` }));
  add("garbage body", post(Buffer.from("\x00\xff garbage \r\n\r\n--", "latin1")));
  add("empty body", post(Buffer.alloc(0)));
  add("only the closing boundary", post(Buffer.from(`--${BOUNDARY}--\r\n`)));
  add("part with no headers", post(Buffer.from(`--${BOUNDARY}\r\n\r\nvalue\r\n--${BOUNDARY}--\r\n`)));
  add("part with no name", post(Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nv\r\n--${BOUNDARY}--\r\n`)));
  for (const type of ["text/plain", "application/octet-stream", "application/wasm", "application/x-www-form-urlencoded", "", "multipart/mixed; boundary=x", "application/json"]) {
    add(`content type ${type || "none"}`, post(type === "application/json" ? Buffer.from('{"name":"alice:calc"}') : good, { "content-type": type }));
  }
  add("bad JSON body", post(Buffer.from('{"name":'), { "content-type": "application/json" }));
  add("declared too large", post(good, { "content-length": String(10 ** 12) }));
  add("chunked and truncated", Buffer.concat([
    Buffer.from(`POST /api/v1/packages HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${ADMIN_TOKEN}\r\ncontent-type: multipart/form-data; boundary=${BOUNDARY}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n`),
    Buffer.from(`${(50).toString(16)}\r\n${good.subarray(0, 50).toString("latin1")}\r\n0\r\n\r\n`, "latin1"),
  ]));

  // GET routes: bad query parameters, names, versions and percent-encoding.
  const searchQueries = [
    "limit=-1", "limit=0", "limit=101", "limit=abc", "limit=1e3", "limit=1.5", "limit=%20", "limit=99999999999999999999",
    "offset=-1", "offset=x", "offset=1000001", "q=a&q=b", `q=${"x".repeat(300)}`, "q=%00", "q=a%00b", "limit=1&limit=2",
    "offset=0x10", "limit=+5", "limit=٣",
  ];
  for (const query of searchQueries) add(`search ${query.slice(0, 30)}`, get(`/api/v1/search?${query}`));
  for (const query of ["offset=-1", "offset=x", "q=%00", `q=${"y".repeat(300)}`, "q=a&q=b"]) add(`browse ${query}`, get(`/browse?${query}`), true);
  const badNames = ["%ZZ", "%E0%A4%A", "%", "alice%3A%00calc", "ALICE:CALC", "alice%3Acalc%2F..%2F..", "..%2F..%2Fetc%2Fpasswd",
    "%D0%B0lice:calc", "alice:calc%C0%AE", "a%3A" + "b".repeat(300), "alice:calc%0A"];
  for (const name of badNames) {
    add(`versions of ${name.slice(0, 30)}`, get(`/api/v1/packages/${name}/versions`));
    add(`metadata of ${name.slice(0, 30)}`, get(`/api/v1/packages/${name}/1.0.0`));
    add(`download of ${name.slice(0, 30)}`, get(`/packages/${name}/1.0.0/artifact.wasm`));
    add(`page of ${name.slice(0, 30)}`, get(`/browse/${name}`), true);
  }
  for (const version of ["latest", "1.0", "%ZZ", "1.0.0%00", "v1.0.0", "9".repeat(300), "..", "1.0.0%2F..", "2.0.0"]) {
    add(`metadata of version ${version.slice(0, 20)}`, get(`/api/v1/packages/alice:calc/${version}`));
    add(`download of version ${version.slice(0, 20)}`, get(`/packages/alice:calc/${version}/artifact.wasm`));
  }
  for (const target of ["/packages/alice:calc/1.0.0/other.wasm", "/packages/alice:calc/1.0.0", "/packages/alice:calc//1.0.0/artifact.wasm",
    "/api/v1/packages/", "/api/v1/packages//versions", "/api/v1/nothing", "/%ZZ", "/api/v1/search%ZZ", "/assets/../../etc/passwd",
    "/assets/%2e%2e/%2e%2e/etc/passwd", "/packages?%ZZ=1", "/api/v1/stats/../../x"]) {
    add(`GET ${target}`, get(target));
  }

  // Oversized headers and what is not HTTP at all.
  add("huge header", get("/packages", { "x-big": "a".repeat(20_000) }));
  add("many headers", Buffer.from(`GET /packages HTTP/1.1\r\nhost: x\r\n${Array.from({ length: 2000 }, (_, i) => `x-h${i}: v`).join("\r\n")}\r\n\r\n`));
  add("huge URL", get(`/api/v1/search?q=${"a".repeat(20_000)}`));
  add("not HTTP", Buffer.from("HELLO THERE\r\n\r\n"));
  add("NUL in the request line", Buffer.from("GET /pack\0ages HTTP/1.1\r\nhost: x\r\n\r\n"));
  add("bad header name", Buffer.from("GET /packages HTTP/1.1\r\nhost: x\r\nbad header: y\r\n\r\n"));
  add("both content-length and chunked", Buffer.from("POST /api/v1/packages HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"));
  add("bad content-length", Buffer.from("POST /api/v1/packages HTTP/1.1\r\nhost: x\r\ncontent-length: abc\r\n\r\n"));
  return all;
}

describe("hostile input", () => {
  let server: RunningRegistry;
  before(async () => {
    server = await startRegistry({ REGISTRY_PUBLISH_RATE_LIMIT_PER_MIN: "0", MAX_UPLOAD_MB: "1" });
    assert.equal((await publish(server.url, componentBytes(1), { fields: { name: "alice:calc", version: "1.0.0" } })).status, 201);
  });
  after(() => server.stop());

  it("at least 200 bad requests: each a 4xx error in the error shape, the server stays up, the store unchanged", async (t) => {
    const all = cases();
    assert.ok(all.length >= 200, `${all.length} cases`);
    t.diagnostic(`${all.length} bad requests`);
    const before = await snapshotStore(server.dataDir);
    const failures: string[] = [];
    for (const { label, request, html } of all) {
      const response = await rawRequest(server.url, request);
      if (!response) {
        failures.push(`${label}: no answer`);
        continue;
      }
      if (response.status < 400 || response.status >= 500) failures.push(`${label}: ${response.status} ${response.body.slice(0, 200)}`);
      else if (html && (response.headers["content-type"] ?? "").startsWith("text/html")) continue;
      else {
        try {
          const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
          if (typeof body.error?.code !== "string" || typeof body.error.message !== "string" || body.error.message === "") {
            failures.push(`${label}: ${response.status} not in the error shape: ${response.body.slice(0, 200)}`);
          }
        } catch {
          failures.push(`${label}: ${response.status} not JSON: ${response.body.slice(0, 200)}`);
        }
      }
    }
    assert.deepEqual(failures, []);
    assert.equal((await fetch(`${server.url}/health`)).status, 200, "the server is still up");
    // Staged files of refused uploads are removed as each refusal completes.
    assert.equal(await snapshotStore(server.dataDir), before, "the store is byte for byte unchanged");
    const meta = (await (await fetch(`${server.url}/api/v1/packages/alice:calc/versions`)).json()) as { versions: string[] };
    assert.deepEqual(meta.versions, ["1.0.0"]);
  });
});
