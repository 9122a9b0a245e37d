#!/usr/bin/env node
/**
 * Starts the registry configured by the environment alone (see config.ts).
 */
import { bootstrapTokens } from "./auth.js";
import { buildRegistry } from "./app.js";
import { ConfigError, loadConfigOrExit } from "./config.js";
import { openStores } from "./store/index.js";

async function main(): Promise<void> {
  const config = loadConfigOrExit("registry: cannot start");

  const stores = await openStores(config);
  const generatedToken = await bootstrapTokens(config, stores.metadata);
  const registry = await buildRegistry(config, stores);
  const { app } = registry;

  if (generatedToken) {
    // Printed once, straight to the terminal, never through the logger; only its hash is kept.
    process.stderr.write(
      `\nNo token was configured, so an admin token was created. It is shown only this once:\n\n` +
        `    ${generatedToken}\n\n` +
        `Publish with it:  export RUN_AUTH_TOKEN=${generatedToken}\n` +
        `Set REGISTRY_ADMIN_TOKEN or REGISTRY_TOKENS to choose your own.\n\n`,
    );
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, "shutting down");
    await registry.close();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));

  await registry.listen();
  app.log.info({ dataDir: config.dataDir, publicUrl: config.publicUrl, maxUploadMb: config.maxUploadBytes / 1048576 }, "registry ready");
}

main().catch((error) => {
  // A setting that turned out unusable (DATA_DIR…) is the operator's to fix: its message says how; a stack would not help.
  const detail = error instanceof ConfigError ? `cannot start: ${error.message}` : `failed to start: ${error instanceof Error ? error.stack : String(error)}`;
  process.stderr.write(`registry: ${detail}\n`);
  process.exit(1);
});
