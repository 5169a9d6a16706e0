// Rules that span keys: mode requirements, overlaps, resolved defaults. Runs after the
// schema has parsed every key, and reports every problem it finds.
import { EamTable } from "../addr/eam.ts";
import {
  AddressError,
  contains4,
  contains6,
  formatIPv4,
  formatIPv6,
  formatPrefix4,
  formatPrefix6,
  parsePrefix6,
  type Prefix4,
  type Prefix6,
} from "../addr/ip.ts";
import type { ParsedConfig } from "./schema.ts";
import type { Config, Pool4Entry } from "./types.ts";

/** RFC 6052 2.1 Well-Known Prefix, the pool6 of nat64 mode when none is configured. */
export const WKP = parsePrefix6("64:ff9b::/96");

export interface KeyIssue {
  readonly key: string;
  readonly reason: string;
}

const overlap4 = (a: Prefix4, b: Prefix4) =>
  a.len <= b.len ? contains4(a, b.addr) : contains4(b, a.addr);
const overlap6 = (a: Prefix6, b: Prefix6) =>
  a.len <= b.len ? contains6(a, b.addr) : contains6(b, a.addr);

export function resolveConfig(p: ParsedConfig, issues: KeyIssue[]): Config {
  const bad = (key: string, reason: string) => issues.push({ key, reason });
  const mode = p.mode;
  const pool6 = p.translator.pool6 ?? (mode === "nat64" ? WKP : null);

  checkEam(p, bad);
  checkPool4(p.nat64.pool4, bad);
  checkBib(p, pool6, bad);

  if (mode === "siit" && pool6 === null && p.translator.eam.length === 0) {
    bad("translator.pool6", "siit mode needs translator.pool6 or at least one [[translator.eam]]");
  }
  if (mode === "nat64" && p.nat64.pool4.length === 0) {
    bad("nat64.pool4", "nat64 mode needs at least one [[nat64.pool4]] entry (RFC 6146 3)");
  }
  if (mode === "clat") checkClat(p, pool6, bad);
  if (mode === "nat64" && p.tun.workers > 1) {
    bad(
      "tun.workers",
      `nat64 mode runs one data-path worker: BIB and sessions live in it, and the kernel ` +
        `spreads a flow's two directions over TUN queues independently (set workers = 1)`,
    );
  }
  if (p.pcp.minLifetime > p.pcp.maxLifetime) {
    bad(
      "pcp.min-lifetime",
      `${p.pcp.minLifetime} is above pcp.max-lifetime ${p.pcp.maxLifetime}`,
    );
  }
  if (p.nat64.snapshotFile !== null && p.nat64.snapshotFile.endsWith("/")) {
    bad("nat64.snapshot-file", `"${p.nat64.snapshotFile}" names a directory, not a file`);
  }
  if (mode !== "nat64" && p.pcp.listen.length > 0) {
    bad("pcp.listen", `the PCP server runs only in nat64 mode, not in mode "${mode}"`);
  }
  if (p.discovery.announcePref64.length > 0 && pool6 === null) {
    bad("discovery.announce-pref64", "there is no translator.pool6 to announce (RFC 8781)");
  }
  if (mode === "none" && p.dns.listen.length === 0) {
    bad("dns.listen", 'mode "none" runs only the DNS proxy, so dns.listen must not be empty');
  }
  if (p.dns.aaaaOnlyUpstream && mode !== "clat") {
    bad(
      "dns.aaaa-only-upstream",
      `needs mode "clat": only the CLAT knows the PLAT prefix that marks synthesized AAAA ` +
        `(RFC 8683 3.1.2)`,
    );
  }
  checkDuplicates("dns.listen", p.dns.listen.map((a) => `${a.host}#${a.port}`), bad);

  const staticPlat = p.clat.platPrefix === "discover" ? null : p.clat.platPrefix;
  const fallback = pool6 ?? (mode === "clat" ? staticPlat : null);
  const prefixes = p.dns64.prefixes ?? (fallback ? [fallback] : []);

  return {
    mode,
    tun: p.tun,
    translator: { ...p.translator, pool6 },
    nat64: p.nat64,
    clat: p.clat,
    discovery: p.discovery,
    dns: p.dns,
    dns64: { ...p.dns64, prefixes },
    validator: p.validator,
    pcp: p.pcp,
    status: p.status,
    log: p.log,
  };
}

type Bad = (key: string, reason: string) => void;

function checkEam(p: ParsedConfig, report: Bad): void {
  const eam = p.translator.eam;
  let found = 0;
  const bad: Bad = (k, r) => {
    found++;
    report(k, r);
  };
  eam.forEach((e, i) => {
    const s4 = 32 - e.ipv4.len, s6 = 128 - e.ipv6.len;
    if (s4 > s6) {
      bad(
        `translator.eam[${i}]`,
        `the IPv4 suffix of ${formatPrefix4(e.ipv4)} (${s4} bits) is longer than the IPv6 ` +
          `suffix of ${formatPrefix6(e.ipv6)} (${s6} bits), so two IPv4 addresses would ` +
          `share one IPv6 address (RFC 7757 3.2)`,
      );
    }
    for (let j = 0; j < i; j++) {
      if (overlap4(eam[j].ipv4, e.ipv4)) {
        bad(
          `translator.eam[${i}].ipv4`,
          `${formatPrefix4(e.ipv4)} overlaps translator.eam[${j}].ipv4 ${
            formatPrefix4(eam[j].ipv4)
          }`,
        );
      }
      if (overlap6(eam[j].ipv6, e.ipv6)) {
        bad(
          `translator.eam[${i}].ipv6`,
          `${formatPrefix6(e.ipv6)} overlaps translator.eam[${j}].ipv6 ${
            formatPrefix6(eam[j].ipv6)
          }`,
        );
      }
    }
  });
  // The table the translator builds is the final word (it may know rules added later).
  if (found === 0) {
    try {
      new EamTable(eam);
    } catch (e) {
      if (!(e instanceof AddressError)) throw e;
      report("translator.eam", e.message);
    }
  }
}

function checkPool4(pool4: readonly Pool4Entry[], bad: Bad): void {
  pool4.forEach((e, i) => {
    checkDuplicates(`nat64.pool4[${i}].protocols`, e.protocols, bad);
    for (let j = 0; j < i; j++) {
      const o = pool4[j];
      const sharedProto = e.protocols.find((x) => o.protocols.includes(x));
      if (
        sharedProto && overlap4(o.prefix, e.prefix) &&
        e.ports.min <= o.ports.max && o.ports.min <= e.ports.max
      ) {
        bad(
          `nat64.pool4[${i}]`,
          `${formatPrefix4(e.prefix)} ports ${e.ports.min}-${e.ports.max} overlaps ` +
            `nat64.pool4[${j}] for ${sharedProto}`,
        );
      }
    }
  });
}

function checkBib(p: ParsedConfig, pool6: Prefix6 | null, bad: Bad): void {
  const bib = p.nat64.bib;
  bib.forEach((b, i) => {
    const inPool = p.nat64.pool4.some((e) =>
      e.protocols.includes(b.protocol) && contains4(e.prefix, b.ipv4.addr)
    );
    if (!inPool) {
      bad(
        `nat64.bib[${i}].ipv4`,
        `${formatIPv4(b.ipv4.addr)} is not in any [[nat64.pool4]] prefix for ${b.protocol}`,
      );
    }
    if (pool6 && contains6(pool6, b.ipv6.addr)) {
      bad(
        `nat64.bib[${i}].ipv6`,
        `${formatIPv6(b.ipv6.addr)} is inside translator.pool6 ${formatPrefix6(pool6)}; ` +
          `a BIB entry names an IPv6 host`,
      );
    }
    for (let j = 0; j < i; j++) {
      const o = bib[j];
      if (o.protocol !== b.protocol) continue;
      if (o.ipv4.addr === b.ipv4.addr && o.ipv4.port === b.ipv4.port) {
        bad(`nat64.bib[${i}].ipv4`, `same ${b.protocol} transport address as nat64.bib[${j}]`);
      }
      if (o.ipv6.port === b.ipv6.port && o.ipv6.addr.every((x, k) => x === b.ipv6.addr[k])) {
        bad(`nat64.bib[${i}].ipv6`, `same ${b.protocol} transport address as nat64.bib[${j}]`);
      }
    }
  });
}

function checkClat(p: ParsedConfig, pool6: Prefix6 | null, bad: Bad): void {
  const c = p.clat;
  const single = c.ipv6Address !== null || c.ipv6AddressAuto;
  if (c.translationPrefix === null && !single) {
    bad(
      "clat",
      "clat mode needs clat.translation-prefix (a dedicated /64, RFC 6877 6.3) or " +
        "clat.ipv6-address (one address with NAT44)",
    );
  }
  if (c.translationPrefix === null && p.tun.workers > 1) {
    bad(
      "tun.workers",
      "clat single-address mode keeps NAT44 state in one data-path worker (set workers = 1, " +
        "or use clat.translation-prefix, which is stateless)",
    );
  }
  if (c.translationPrefix !== null && c.translationPrefix.len > 96) {
    bad("clat.translation-prefix", "must be /96 or shorter (RFC 6877 6.3: a dedicated /64)");
  }
  if (c.translationPrefix !== null && single) {
    bad("clat.ipv6-address", "set clat.translation-prefix or clat.ipv6-address, not both");
  }
  if (c.platPrefix === "discover") {
    const methods = p.discovery.methods.filter((m) => m !== "static");
    if (methods.length === 0 && pool6 === null) {
      bad(
        "clat.plat-prefix",
        '"discover" needs a discovery.methods entry other than "static", or a translator.pool6',
      );
    }
  }
}

function checkDuplicates(key: string, values: readonly string[], bad: Bad): void {
  values.forEach((v, i) => {
    const first = values.indexOf(v);
    if (first < i) bad(`${key}[${i}]`, `duplicate of ${key}[${first}]`);
  });
}
