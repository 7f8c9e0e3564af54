// Who the dashboard and the metrics answer. A server on 127.0.0.1 is not private from the web
// pages its user opens: a page on another site can point a name of its own at 127.0.0.1 (DNS
// rebinding) and read the server's answers as its own. The browser then sends that name as the
// `Host`, so a request is answered only for a loopback name or a name the program lists. The
// metrics answer IP addresses too: a rebinding page never sends one, and a Prometheus server that
// scrapes a target by address does. The dashboard refuses them unless listed, as it always has.

import { refuse } from "../future/_options.ts";

/**
 * The host name of `host` (a `Host` header's value, or a URL's host) as the URL parser writes it:
 * lower case, IPv4 in dotted form, IPv6 in brackets, without the port and a final dot; undefined
 * when it is not a host.
 */
function hostName(host: string): string | undefined {
  if (host === "" || /[\s/\\@?#%]/.test(host)) return undefined;
  try {
    return new URL(`http://${host}`).hostname.replace(/\.$/, "");
  } catch {
    return undefined;
  }
}

function isLoopback(name: string): boolean {
  return name === "localhost" || name === "[::1]" || /^127\.\d+\.\d+\.\d+$/.test(name);
}

/**
 * An IP address, as hostName() writes it. A request for one is safe from DNS rebinding, which
 * needs a name of the attacker's: the browser sends the name of the page's own site.
 */
function isAddress(name: string): boolean {
  return name.startsWith("[") || /^\d+\.\d+\.\d+\.\d+$/.test(name);
}

/**
 * The host a request is for (its `Host` header, then its URL's host), when one of them is neither
 * a loopback name nor in `allowed` (nor an IP address, where `addresses`); undefined when the
 * request may be answered.
 */
export function refusedHost(
  request: Request,
  allowed: ReadonlySet<string>,
  addresses = false,
): string | undefined {
  const header = request.headers.get("host");
  let url: string;
  try {
    url = new URL(request.url).host;
  } catch {
    return request.url;
  }
  for (const host of header === null ? [url] : [header, url]) {
    const name = hostName(host);
    if (name === undefined) return host;
    if (!(isLoopback(name) || allowed.has(name) || (addresses && isAddress(name)))) return host;
  }
  return undefined;
}

/** The `allowedHosts` option, checked: `"*"`, or the set of host names as hostName() writes them. */
export function allowedHostsOf(what: string, hosts: unknown): "*" | ReadonlySet<string> {
  if (hosts === undefined) return new Set();
  if (!Array.isArray(hosts)) {
    refuse(
      { action: what, path: "allowedHosts" },
      'an array of host names (e.g. ["dash.example.com"])',
      hosts,
      false,
    );
  }
  const names = new Set<string>();
  let any = false;
  for (const [i, host] of hosts.entries()) {
    if (host === "*") {
      any = true;
      continue;
    }
    // A port is not part of the name (and a name with one would never match).
    const bare = typeof host === "string" &&
      (host.startsWith("[") ? host.endsWith("]") : !host.includes(":"));
    const name = bare ? hostName(host) : undefined;
    if (name === undefined) {
      refuse(
        { action: what, path: `allowedHosts[${i}]` },
        'a host name or address without scheme nor port (e.g. "dash.example.com", "[fd00::5]") or "*"',
        host,
        false,
      );
    }
    names.add(name);
  }
  return any ? "*" : names;
}
