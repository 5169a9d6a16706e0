import assert from "node:assert/strict";
import { formatPrefix4, formatPrefix6, parsePrefix6 } from "../../src/addr/ip.ts";
import {
  ConfigError,
  type ConfigIssue,
  DEFAULT_CONFIG_TOML,
  defaultConfig,
  loadConfig,
  parseConfig,
  RFC1191_PLATEAUS,
  toXlatOptions,
} from "../../src/config/mod.ts";
import { KNOWN_KEYS } from "../../src/config/schema.ts";

const POOL4 = `
[[nat64.pool4]]
prefix = "192.168.255.0/30"
`;

function issuesOf(text: string, file = "xlat.toml"): readonly ConfigIssue[] {
  try {
    parseConfig(text, file);
  } catch (e) {
    if (e instanceof ConfigError) return e.issues;
    throw e;
  }
  assert.fail(`expected a ConfigError for:\n${text}`);
}

Deno.test("embedded default parses with the config parser and has DESIGN.md's defaults", () => {
  const c = defaultConfig();
  assert.equal(c.mode, "nat64");
  assert.equal(formatPrefix6(c.translator.pool6!), "64:ff9b::/96");
  assert.deepEqual(c.dns.listen.map((a) => `${a.host}#${a.port}`), ["::1#53", "127.0.0.1#53"]);
  assert.deepEqual(c.status.listen, { family: 4, host: "127.0.0.1", port: 8064 });
  assert.deepEqual(c.dns64.prefixes.map(formatPrefix6), ["64:ff9b::/96"]);
  assert.equal(c.nat64.pool4.length, 1);
  assert.equal(c.translator.lowestIpv6Mtu, 1280);
  assert.deepEqual(c.translator.mtuPlateaus, RFC1191_PLATEAUS);
  assert.equal(formatPrefix4(c.translator.rfc6791v4Prefix!), "192.0.0.8/32");
  assert.equal(c.log.level, "info");
  assert.equal(c.log.format, "text");
});

Deno.test("the embedded default states the real defaults (same result as an almost empty file)", () => {
  assert.deepEqual(parseConfig(POOL4, "min.toml"), defaultConfig());
});

Deno.test("the embedded default mentions every key of every section", () => {
  for (const [section, keys] of KNOWN_KEYS) {
    for (const k of keys) {
      if (section === "" && typeof k === "string" && k !== "mode") continue; // the sections
      const key = k.replace(/[-]/g, "\\-");
      const table = `${section}.${k}`.replace(/[.[\]]/g, "\\$&");
      const re = new RegExp(`^#? *(${key} = |\\[\\[${table}\\]\\])`, "m");
      assert.ok(re.test(DEFAULT_CONFIG_TOML), `default config lacks ${section}.${k}`);
    }
  }
});

Deno.test("print-default round trip: the printed text parses back to the same config", () => {
  const again = parseConfig(String(DEFAULT_CONFIG_TOML), "printed.toml");
  assert.deepEqual(again, defaultConfig());
});

// [TOML, key path, reason pattern]
const ERRORS: [string, string, RegExp][] = [
  [`mode = "nat46"`, "mode", /"nat46" is not one of "siit", "nat64", "clat", "none"/],
  [`mode = 64`, "mode", /is not one of/],
  [`[tun]\nname = "a-very-long-interface-name"`, "tun.name", /1 to 15 characters/],
  [`[tun]\nname = "a/b"`, "tun.name", /may not contain/],
  [`[tun]\nmtu = 1000`, "tun.mtu", /1000 is below the minimum 1280/],
  [`[tun]\nworkers = "two"`, "tun.workers", /expected an integer, got the string "two"/],
  [`[tun]\nmanage = 1`, "tun.manage", /expected true or false, got the integer 1/],
  [
    `[translator]\npool6 = "64:ff9b::/57"`,
    "translator.pool6",
    /^prefix length 57 is not one of 32, 40, 48, 56, 64, 96 \(RFC 6052 2\.2\)$/,
  ],
  [`[translator]\npool6 = "2001:db8:0:0:ff00::/96"`, "translator.pool6", /u-octet/],
  [`[translator]\npool6 = "64:ff9b::1/96"`, "translator.pool6", /host bits set/],
  [`[translator]\npool6 = "64:zz9b::/96"`, "translator.pool6", /not an IPv6 address/],
  [`[translator]\nlowest-ipv6-mtu = 1279`, "translator.lowest-ipv6-mtu", /below the minimum 1280/],
  [`[translator]\nipv4-mtu = 67`, "translator.ipv4-mtu", /below the minimum 68/],
  [`[translator]\nipv6-mtu = 70000`, "translator.ipv6-mtu", /above the maximum 65535/],
  [`[translator]\nnew-tos = 256`, "translator.new-tos", /above the maximum 255/],
  [`[translator]\nnew-tos = 1.5`, "translator.new-tos", /expected an integer, got the float 1.5/],
  [`[translator]\nmtu-plateaus = []`, "translator.mtu-plateaus", /at least 1 entry/],
  [`[translator]\nmtu-plateaus = [1500, 10]`, "translator.mtu-plateaus[1]", /minimum 68/],
  [`[translator]\nrfc6791v4-prefix = "192.0.0.8/33"`, "translator.rfc6791v4-prefix", /length/],
  [`[translator]\nrfc6791v6-prefix = "2001:db8::/129"`, "translator.rfc6791v6-prefix", /length/],
  [`[translator]\nrfc6791v4-randomize = "yes"`, "translator.rfc6791v4-randomize", /true or false/],
  [`[translator]\neam-hairpin-mode = "on"`, "translator.eam-hairpin-mode", /"on" is not one of/],
  [
    `[translator]\ndenylist4 = ["10.0.0.0/8", "10.0.0.1/8"]`,
    "translator.denylist4[1]",
    /host bits/,
  ],
  [`[translator]\ndenylist4 = "10.0.0.0/8"`, "translator.denylist4", /expected a list/],
  [
    `[[translator.eam]]\nipv4 = "192.0.2.1"\nipv6 = "2001:db8::1"\n` +
    `[[translator.eam]]\nipv4 = "192.0.2.2"\nipv6 = "2001:db8::2"\n` +
    `[[translator.eam]]\nipv4 = "192.0.2.3"\nipv6 = "2001:db8::g"`,
    "translator.eam[2].ipv6",
    /not an IPv6 address: "2001:db8::g"/,
  ],
  [
    `[[translator.eam]]\nipv4 = "192.0.2.0/24"`,
    "translator.eam[0].ipv6",
    /required key is missing/,
  ],
  [
    `[[translator.eam]]\nipv4 = "192.0.2.0/24"\nipv6 = "2001:db8::/128"`,
    "translator.eam[0]",
    /IPv4 suffix .* \(8 bits\) is longer than the IPv6 suffix .* \(0 bits\).*RFC 7757/,
  ],
  [
    `[[translator.eam]]\nipv4 = "192.0.2.0/24"\nipv6 = "2001:db8::/120"\n` +
    `[[translator.eam]]\nipv4 = "192.0.2.128/25"\nipv6 = "2001:db8:1::/121"`,
    "translator.eam[1].ipv4",
    /192\.0\.2\.128\/25 overlaps translator\.eam\[0\]\.ipv4 192\.0\.2\.0\/24/,
  ],
  [
    `[[translator.eam]]\nipv4 = "192.0.2.0/24"\nipv6 = "2001:db8::/120"\n` +
    `[[translator.eam]]\nipv4 = "198.51.100.0/24"\nipv6 = "2001:db8::/120"`,
    "translator.eam[1].ipv6",
    /overlaps translator\.eam\[0\]\.ipv6/,
  ],
  [
    `[[translator.eam]]\nipv4 = "192.0.2.0/24"\nipv6 = "2001:db8::/120"\nipv5 = "x"`,
    "translator.eam[0].ipv5",
    /unknown key \(did you mean "ipv[46]"\?\)/,
  ],
  [
    `[nat64]\n[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nports = "5-1"`,
    "nat64.pool4[0].ports",
    /empty \(5 > 1\)/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nports = "1-70000"`,
    "nat64.pool4[0].ports",
    /0 to 65535/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nports = "all"`,
    "nat64.pool4[0].ports",
    /not a port range/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nports = true`,
    "nat64.pool4[0].ports",
    /a string or an integer/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nprotocols = ["sctp"]`,
    "nat64.pool4[0].protocols[0]",
    /"sctp" is not one of "tcp", "udp", "icmp"/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nprotocols = []`,
    "nat64.pool4[0].protocols",
    /at least 1 entry/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\nprotocols = ["tcp", "tcp"]`,
    "nat64.pool4[0].protocols[1]",
    /duplicate of nat64\.pool4\[0\]\.protocols\[0\]/,
  ],
  [
    `[[nat64.pool4]]\nprefix = "192.0.2.0/24"\n[[nat64.pool4]]\nprefix = "192.0.2.128/25"\nprotocols = ["udp"]\nports = "65000"`,
    "nat64.pool4[1]",
    /overlaps nat64\.pool4\[0\] for udp/,
  ],
  [
    `${POOL4}[[nat64.bib]]\nprotocol = "tcp"\nipv4 = "192.0.2.2#2000"\nipv6 = "2001:db8::5#2000"`,
    "nat64.bib[0].ipv4",
    /192\.0\.2\.2 is not in any \[\[nat64\.pool4\]\] prefix for tcp/,
  ],
  [
    `${POOL4}[[nat64.bib]]\nprotocol = "tcp"\nipv4 = "192.168.255.1#2000"\nipv6 = "2001:db8::5"`,
    "nat64.bib[0].ipv6",
    /not a transport address like/,
  ],
  [
    `${POOL4}[[nat64.bib]]\nprotocol = "udp"\nipv4 = "192.168.255.1#53"\nipv6 = "2001:db8::5#53"\n` +
    `[[nat64.bib]]\nprotocol = "udp"\nipv4 = "192.168.255.1#53"\nipv6 = "2001:db8::6#53"`,
    "nat64.bib[1].ipv4",
    /same udp transport address as nat64\.bib\[0\]/,
  ],
  [
    `${POOL4}[[nat64.bib]]\nprotocol = "tcp"\nipv4 = "192.168.255.1#80"\nipv6 = "64:ff9b::1#80"`,
    "nat64.bib[0].ipv6",
    /inside translator\.pool6 64:ff9b::\/96/,
  ],
  [`${POOL4}[nat64]\nudp-timeout = 60`, "nat64.udp-timeout", /60 is below the minimum 120/],
  [`${POOL4}[nat64]\ntcp-est-timeout = 7200`, "nat64.tcp-est-timeout", /below the minimum 7440/],
  [`${POOL4}[nat64]\nicmp-timeout = 10`, "nat64.icmp-timeout", /below the minimum 60/],
  [`mode = "nat64"`, "nat64.pool4", /nat64 mode needs at least one \[\[nat64\.pool4\]\]/],
  [`mode = "siit"`, "translator.pool6", /siit mode needs translator\.pool6 or at least one/],
  [`mode = "clat"`, "clat", /clat mode needs clat\.translation-prefix .* or clat\.ipv6-address/],
  [
    `mode = "clat"\n[clat]\ntranslation-prefix = "2001:db8:c1a7::/64"\nipv6-address = "2001:db8::1"`,
    "clat.ipv6-address",
    /not both/,
  ],
  [
    `mode = "clat"\n[clat]\nipv6-address = "2001:db8::1"\nplat-prefix = "auto"`,
    "clat.plat-prefix",
    /not an IPv6 address: "auto"/,
  ],
  [
    `mode = "clat"\n[clat]\nipv6-address = "2001:db8::1"\n[discovery]\nmethods = ["static"]`,
    "clat.plat-prefix",
    /"discover" needs a discovery\.methods entry/,
  ],
  [`[clat]\nipv4-address = "192.0.0.256"`, "clat.ipv4-address", /not an IPv4 address/],
  [`[discovery]\nmethods = ["dhcp"]`, "discovery.methods[0]", /"dhcp" is not one of/],
  [`[discovery]\npref64-lifetime = 13`, "discovery.pref64-lifetime", /not a multiple of 8/],
  [`[discovery]\npref64-lifetime = 65536`, "discovery.pref64-lifetime", /above the maximum 65528/],
  [`[discovery]\npcp-server = "router"`, "discovery.pcp-server", /not an IPv4 address/],
  [`[dns]\nlisten = ["[::1]:99999"]`, "dns.listen[0]", /port "99999"/],
  [`[dns]\nlisten = ["[::1]53"]`, "dns.listen[0]", /not an IPv6 address/],
  [
    `[dns]\nlisten = ["127.0.0.1:53", "127.0.0.1"]`,
    "dns.listen[1]",
    /duplicate of dns\.listen\[0\]/,
  ],
  [`[dns]\nupstream = ["dns.example"]`, "dns.upstream[0]", /not an IPv4 address/],
  [`[dns]\nallow = ["everyone"]`, "dns.allow[0]", /not an IPv4 address/],
  [`[dns]\nupstream-timeout-ms = 0`, "dns.upstream-timeout-ms", /below the minimum 100/],
  [`[dns64]\nprefixes = ["64:ff9b::/95"]`, "dns64.prefixes[0]", /prefix length 95/],
  [`[dns64]\nmapped = ["!2001:db8::/32"]`, "dns64.mapped[0]", /only IPv4 prefixes/],
  [`[dns64]\nexclude-domains = ["bad..name"]`, "dns64.exclude-domains[0]", /bad label/],
  [`[validator]\ntrust-anchors = ""`, "validator.trust-anchors", /must not be empty/],
  [`[validator]\nenable = true`, "validator.enable", /unknown key \(did you mean "enabled"\?\)/],
  [
    `[pcp]\nlisten = ["[::1]:5351"]\n[[translator.eam]]\nipv4 = "192.0.2.1"\nipv6 = "2001:db8::1"\n` +
    `[tun]\nmanage = false`,
    "nat64.pool4",
    /nat64 mode needs/,
  ],
  [
    `mode = "siit"\n[translator]\npool6 = "64:ff9b::/96"\n[pcp]\nlisten = ["[::1]:5351"]`,
    "pcp.listen",
    /only in nat64 mode/,
  ],
  [`mode = "none"\n[dns]\nlisten = []`, "dns.listen", /must not be empty/],
  [`${POOL4}[tun]\nworkers = 2`, "tun.workers", /nat64 mode runs one data-path worker/],
  [`${POOL4}[nat64]\nmax-ports-per-host = -1`, "nat64.max-ports-per-host", /below the minimum 0/],
  [`${POOL4}[nat64]\nsnapshot-interval = 0`, "nat64.snapshot-interval", /below the minimum 1/],
  [`${POOL4}[nat64]\nsnapshot-file = "/var/lib/"`, "nat64.snapshot-file", /names a directory/],
  [`${POOL4}[pcp]\nallow = ["10.0.0.0/8"]`, "pcp.allow[0]", /not an IPv6 address/],
  [
    `${POOL4}[pcp]\nmin-lifetime = 600\nmax-lifetime = 300`,
    "pcp.min-lifetime",
    /600 is above pcp\.max-lifetime 300/,
  ],
  [
    `mode = "siit"\n[[translator.eam]]\nipv4 = "192.0.2.1"\nipv6 = "2001:db8::1"\n[discovery]\nannounce-pref64 = ["eth0"]`,
    "discovery.announce-pref64",
    /no translator\.pool6 to announce/,
  ],
  [`[status]\nlisten = "127.0.0.1"`, "status.listen", /needs a port, like "127\.0\.0\.1:8064"/],
  [`[status]\nlisten = "localhost:8064"`, "status.listen", /not an IPv4 address: "localhost"/],
  [
    `[log]\nlevel = "verbose"`,
    "log.level",
    /"verbose" is not one of "trace", "debug", "info", "warning", "error", "fatal"/,
  ],
  [`[log]\nformat = "xml"`, "log.format", /"xml" is not one of "text", "json"/],
  [
    `[translater]\npool6 = "64:ff9b::/96"`,
    "translater",
    /unknown key \(did you mean "translator"\?\)/,
  ],
  [`colour = "blue"`, "colour", /^unknown key$/],
  [`tun = 5`, "tun", /expected a table, got the integer 5/],
];

for (const [toml, key, reason] of ERRORS) {
  Deno.test(`config error names file, key and reason: ${key} (${reason.source.slice(0, 40)})`, () => {
    const issues = issuesOf(toml, "xlat.toml");
    const hit = issues.find((i) => i.key === key && reason.test(i.reason));
    assert.ok(
      hit,
      `no issue for ${key} matching ${reason}; got:\n${
        issues.map((i) => `${i.key}: ${i.reason}`).join("\n")
      }`,
    );
    assert.equal(hit.file, "xlat.toml");
  });
}

Deno.test("ConfigError message is 'file: key: reason', one line per issue", () => {
  try {
    parseConfig(`[translator]\npool6 = "64:ff9b::/57"`, "xlat.toml");
    assert.fail("no error");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    assert.equal(
      e.message,
      "xlat.toml: translator.pool6: prefix length 57 is not one of 32, 40, 48, 56, 64, 96 (RFC 6052 2.2)",
    );
  }
});

Deno.test("every schema error is reported at once", () => {
  const issues = issuesOf(
    `[tun]\nmtu = 1\nnme = "x"\n[translator]\nnew-tos = 999\n[log]\nlevel = "loud"`,
  );
  assert.deepEqual(issues.map((i) => i.key).sort(), [
    "log.level",
    "translator.new-tos",
    "tun.mtu",
    "tun.nme",
  ]);
});

Deno.test("every semantic error is reported at once", () => {
  const issues = issuesOf(
    `mode = "clat"\n[pcp]\nlisten = ["127.0.0.1"]\n[dns]\nlisten = ["127.0.0.1", "127.0.0.1:53"]`,
  );
  assert.deepEqual(issues.map((i) => i.key).sort(), ["clat", "dns.listen[1]", "pcp.listen"]);
});

Deno.test("TOML syntax errors carry line and column", () => {
  const issues = issuesOf(`mode = "nat64"\n[tun]\nmtu = = 5\n`, "bad.toml");
  assert.equal(issues.length, 1);
  assert.equal(issues[0].line, 3);
  assert.ok(issues[0].column! >= 1);
  assert.match(issues[0].reason, /^TOML syntax error: /);
  assert.match(new ConfigError(issues).message, /^bad\.toml:3:[0-9]+: TOML syntax error: /);
});

Deno.test("duplicate TOML keys are syntax errors", () => {
  const issues = issuesOf(`mode = "nat64"\nmode = "siit"\n`);
  assert.equal(issues[0].line, 2);
});

Deno.test("pool6 omitted: WKP in nat64 mode, none (EAM-only) in siit mode", () => {
  assert.equal(formatPrefix6(parseConfig(POOL4, "a").translator.pool6!), "64:ff9b::/96");
  const siit = parseConfig(
    `mode = "siit"\n[[translator.eam]]\nipv4 = "192.0.2.0/24"\nipv6 = "2001:db8::/120"`,
    "a",
  );
  assert.equal(siit.translator.pool6, null);
  assert.deepEqual(siit.dns64.prefixes, [], "no pool6 and no dns64.prefixes: DNS64 is off");
});

Deno.test("dns64.prefixes: omitted follows pool6, [] turns DNS64 off, explicit ones are kept", () => {
  const c = parseConfig(`${POOL4}[translator]\npool6 = "2001:db8:64::/48"`, "a");
  assert.deepEqual(c.dns64.prefixes.map(formatPrefix6), ["2001:db8:64::/48"]);
  assert.deepEqual(parseConfig(`${POOL4}[dns64]\nprefixes = []`, "a").dns64.prefixes, []);
  const two = parseConfig(`${POOL4}[dns64]\nprefixes = ["64:ff9b::/96", "2001:db8::/32"]`, "a");
  assert.deepEqual(two.dns64.prefixes.map(formatPrefix6), ["64:ff9b::/96", "2001:db8::/32"]);
});

Deno.test("every RFC 6052 prefix length is accepted for pool6", () => {
  for (
    const p of [
      "2001:db8::/32",
      "2001:db8:100::/40",
      "2001:db8:122::/48",
      "2001:db8:122:300::/56",
      "2001:db8:122:344::/64",
      "64:ff9b::/96",
    ]
  ) {
    assert.equal(
      formatPrefix6(parseConfig(`${POOL4}[translator]\npool6 = "${p}"`, "a").translator.pool6!),
      p,
    );
  }
});

Deno.test("values are parsed: plateaus sorted and deduplicated, ports, BIB, ACLs, sockets", () => {
  const c = parseConfig(
    `[translator]\nmtu-plateaus = [1500, 9000, 1500, 68]\nrfc6791v4-prefix = ""\n` +
      `[[nat64.pool4]]\nprefix = "192.0.2.0/30"\nports = 5000\nprotocols = ["udp"]\n` +
      `[[nat64.bib]]\nprotocol = "udp"\nipv4 = "192.0.2.1#5000"\nipv6 = "2001:db8::5#53"\n` +
      `[dns]\nupstream = ["192.0.2.53", "[2001:db8::53]:5353", "resolv.conf"]\nallow = ["!10.0.0.0/8", "any"]\n` +
      `[status]\nlisten = ""\n[pcp]\nlisten = ["2001:db8::1"]`,
    "a",
  );
  assert.deepEqual(c.translator.mtuPlateaus, [9000, 1500, 68]);
  assert.equal(c.translator.rfc6791v4Prefix, null);
  assert.deepEqual(c.nat64.pool4[0].ports, { min: 5000, max: 5000 });
  assert.deepEqual(c.nat64.pool4[0].protocols, ["udp"]);
  assert.equal(c.nat64.bib[0].ipv4.port, 5000);
  assert.equal(c.nat64.bib[0].ipv6.port, 53);
  assert.deepEqual(c.dns.upstream, [
    { family: 4, host: "192.0.2.53", port: 53 },
    { family: 6, host: "2001:db8::53", port: 5353 },
    "resolv.conf",
  ]);
  assert.equal(c.dns.allow[0].allow, false);
  assert.equal(c.dns.allow[1].kind, "any");
  assert.equal(c.status.listen, null);
  assert.deepEqual(c.pcp.listen, [{ family: 6, host: "2001:db8::1", port: 5351 }]);
});

Deno.test("toXlatOptions maps every [translator] key", () => {
  const c = parseConfig(
    `mode = "siit"\n[translator]\npool6 = "2001:db8:64::/64"\nlowest-ipv6-mtu = 1400\nipv4-mtu = 1400\n` +
      `ipv6-mtu = 9000\nmtu-plateaus = [1400]\nwkp-strict = false\namend-udp-checksum-zero = true\n` +
      `reset-traffic-class = true\nreset-tos = true\nnew-tos = 8\nrfc6791v4-prefix = "198.51.100.0/24"\n` +
      `rfc6791v6-prefix = "2001:db8:ffff::/64"\nrfc6791v4-randomize = true\neam-hairpin-mode = "simple"\n` +
      `denylist4 = ["203.0.113.0/24"]\n[[translator.eam]]\nipv4 = "192.0.2.0/24"\nipv6 = "2001:db8:1::/120"`,
    "a",
  );
  const o = toXlatOptions(c);
  assert.equal(formatPrefix6(o.pool6!), "2001:db8:64::/64");
  assert.equal(o.lowestIpv6Mtu, 1400);
  assert.equal(o.ipv4Mtu, 1400);
  assert.equal(o.ipv6Mtu, 9000);
  assert.deepEqual(o.mtuPlateaus, [1400]);
  assert.equal(o.wkpStrict, false);
  assert.equal(o.amendUdpChecksumZero, true);
  assert.equal(o.resetTrafficClass, true);
  assert.equal(o.resetTos, true);
  assert.equal(o.newTos, 8);
  assert.equal(formatPrefix4(o.rfc6791v4!), "198.51.100.0/24");
  assert.equal(formatPrefix6(o.rfc6791v6!), "2001:db8:ffff::/64");
  assert.equal(o.rfc6791Randomize, true);
  assert.equal(o.eamHairpinMode, "simple");
  assert.deepEqual(o.denylist4.map(formatPrefix4), ["203.0.113.0/24"]);
  assert.equal(o.eam.length, 1);
  assert.equal(formatPrefix6(o.eam[0].ipv6), "2001:db8:1::/120");
});

Deno.test("toXlatOptions in clat mode takes a static plat-prefix as pool6", () => {
  const c = parseConfig(
    `mode = "clat"\n[clat]\nipv6-address = "2001:db8:a::c1a7"\nplat-prefix = "64:ff9b::/96"`,
    "a",
  );
  assert.deepEqual(toXlatOptions(c).pool6, parsePrefix6("64:ff9b::/96"));
  assert.deepEqual(c.dns64.prefixes, [parsePrefix6("64:ff9b::/96")]);
});

Deno.test("loadConfig: a missing file is a ConfigError naming the file", async () => {
  const path = `/nonexistent/xlat64-${crypto.randomUUID()}.toml`;
  await assert.rejects(loadConfig(path), (e) => {
    assert.ok(e instanceof ConfigError);
    assert.equal(e.issues[0].file, path);
    assert.match(e.issues[0].reason, /cannot read config: no such file/);
    return true;
  });
});

Deno.test("loadConfig reads and validates a file", async () => {
  const path = await Deno.makeTempFile({ suffix: ".toml" });
  try {
    await Deno.writeTextFile(path, `${POOL4}[tun]\nname = "nat64x"`);
    assert.equal((await loadConfig(path)).tun.name, "nat64x");
    await Deno.writeTextFile(path, `[tun]\nname = 1`);
    await assert.rejects(
      loadConfig(path),
      (e) => e instanceof ConfigError && e.issues[0].file === path,
    );
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("nat64 and pcp keys: defaults and parsed values", () => {
  const d = defaultConfig();
  assert.equal(d.nat64.maxPortsPerHost, 0);
  assert.equal(d.nat64.logSessions, false);
  assert.equal(d.nat64.snapshotFile, null);
  assert.equal(d.nat64.snapshotInterval, 60);
  assert.deepEqual(d.pcp.allow, []);
  assert.equal(d.pcp.minLifetime, 120);
  assert.equal(d.pcp.maxLifetime, 86400);
  const c = parseConfig(
    `${POOL4}[nat64]\nmax-ports-per-host = 64\nlog-sessions = true\n` +
      `snapshot-file = "/var/lib/xlat64/nat64.snap"\nsnapshot-interval = 5\n` +
      `[pcp]\nlisten = ["[::1]"]\nallow = ["2001:db8::/32"]\nmin-lifetime = 30\nmax-lifetime = 600`,
    "x.toml",
  );
  assert.equal(c.nat64.maxPortsPerHost, 64);
  assert.equal(c.nat64.logSessions, true);
  assert.equal(c.nat64.snapshotFile, "/var/lib/xlat64/nat64.snap");
  assert.equal(c.nat64.snapshotInterval, 5);
  assert.deepEqual(c.pcp.allow.map(formatPrefix6), ["2001:db8::/32"]);
  assert.equal(c.pcp.listen[0].port, 5351);
  assert.equal(c.pcp.minLifetime, 30);
  assert.equal(c.pcp.maxLifetime, 600);
});
