/** What every route module is given: the configuration and the parts built from it. */
import type { Authenticator } from "../auth.js";
import type { Config } from "../config.js";
import type { DownloadCounter } from "../download-counter.js";
import type { MetadataCache } from "../metadata-cache.js";
import type { Publisher } from "../publish.js";
import type { Stores } from "../store/index.js";

export interface RouteContext {
  config: Config;
  stores: Stores;
  auth: Authenticator;
  publisher: Publisher;
  downloads: DownloadCounter;
  /** Forget a version here whenever its metadata changes (yank, unyank). */
  metadataCache: MetadataCache;
}
