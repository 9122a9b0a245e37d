/**
 * Request ids as Fastify makes them (`req-1`, `req-2`… in base 36), from one
 * counter shared by the router and the metadata fast path, so that no two
 * requests of one process log the same id.
 */
const MAX_SMALL_INTEGER = 2147483647;

export function requestIdSequence(): () => string {
  let last = 0;
  return () => {
    last = (last + 1) % MAX_SMALL_INTEGER;
    return `req-${last.toString(36)}`;
  };
}
