// How an upstream's resource URIs and names are published by the hub (and routed back to their upstream).

/** An upstream's name before `+` in a hub URI: the same alphabet as UPSTREAMS names (which never contain `+`). */
const HUB_URI = /^([a-z][a-z0-9]{0,15})\+([\s\S]+)$/;

/**
 * The URI the hub publishes for an upstream's resource: the upstream's name and `+` before the upstream's own URI
 * (`ev+demo://resource/1`, `ev+ui://widget`). The scheme stays a valid URI scheme, a read routes back by the prefix,
 * and URI templates keep their variables untouched (`ev+demo://resource/dynamic/text/{resourceId}`).
 */
export function hubUri(upstream: string, uri: string): string {
  return `${upstream}+${uri}`;
}

/** The upstream and its own URI of a hub URI, or null when the URI names no upstream. */
export function parseHubUri(uri: string): { upstream: string; uri: string } | null {
  const m = HUB_URI.exec(uri);
  return m ? { upstream: m[1]!, uri: m[2]! } : null;
}

/** The published name of an upstream's prompt, resource or template: namespaced like its tools. */
export const hubName = (upstream: string, name: string): string => `${upstream}_${name}`;
