/**
 * The ceiling: a bare node:http server that answers the same metadata bytes
 * from memory and streams the same component file, doing nothing else.
 * Usage: node bare-server.js PORT METADATA_JSON_FILE COMPONENT_FILE
 */
import { createReadStream, readFileSync, statSync } from "node:fs";
import http from "node:http";

const [port, metadataFile, componentFile] = process.argv.slice(2);
const metadata = readFileSync(metadataFile!);
const componentSize = statSync(componentFile!).size;

http
  .createServer((request, response) => {
    if (request.url === "/metadata") {
      response.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": metadata.length });
      response.end(metadata);
    } else if (request.url === "/component") {
      response.writeHead(200, { "content-type": "application/wasm", "content-length": componentSize });
      createReadStream(componentFile!, { highWaterMark: 256 * 1024 }).pipe(response);
    } else {
      response.writeHead(404).end();
    }
  })
  .listen(Number(port), "127.0.0.1", () => process.stdout.write("ready\n"));
