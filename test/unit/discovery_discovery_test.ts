import assert from "node:assert/strict";
import { formatPrefix6, parseIPv6, parsePrefix6 } from "../../src/addr/ip.ts";
import { startDiscovery } from "../../src/discovery/discovery.ts";
import {
  decodeRequest,
  encodePrefix64,
  OPCODE,
  type PcpResponse,
  RESULT,
} from "../../src/discovery/pcp.ts";
import { buildRa, parseRa } from "../../src/discovery/pref64.ts";
import { rr, TYPE } from "../../src/dns/wire.ts";

const waitFor = async (cond: () => boolean, what: string) => {
  const end = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};
const activeText = (d: ReturnType<typeof startDiscovery>) => {
  const a = d.sources.active();
  return a ? `${a.source} ${a.prefixes.map((p) => formatPrefix6(p.prefix)).join(" ")}` : "none";
};
const fakeRas =
  (prefix: string, lifetimeS: number) =>
  (_if: string, onRa: (ev: never) => void, o: { signal?: AbortSignal }) => {
    onRa(
      {
        from: "fe80::1",
        ifindex: 2,
        ra: parseRa(buildRa({ pref64: [{ prefix: parsePrefix6(prefix), lifetimeS }] })),
      } as never,
    );
    return new Promise<void>((r) => o.signal?.addEventListener("abort", () => r()));
  };
const pcpAnswer =
  (prefix: string) => (_s: { hostname: string }, msg: Uint8Array): Promise<PcpResponse> => {
    const d = decodeRequest(msg);
    assert.ok(d.ok && d.request.opcode === OPCODE.ANNOUNCE);
    return Promise.resolve({
      version: 2,
      opcode: OPCODE.ANNOUNCE,
      result: RESULT.SUCCESS,
      lifetime: 0,
      epoch: 1,
      options: [
        encodePrefix64({
          prefix: parsePrefix6(prefix),
          suffix: new Uint8Array(0),
          ipv4Prefixes: [],
        }),
      ],
    });
  };
const dns = (addr: string) => (name: string, type: number) =>
  Promise.resolve(
    name === "ipv4only.arpa." && type === TYPE.AAAA
      ? [rr(name, TYPE.AAAA, 300, parseIPv6(addr))]
      : [],
  );

Deno.test("all methods run and the highest-precedence answer wins (pref64 over pcp over rfc7050)", async () => {
  const changes: string[] = [];
  const d = startDiscovery({
    methods: ["static", "pref64", "pcp", "rfc7050"],
    interface: "eth0",
    pcpServer: "2001:db8::1",
    pcpClientAddress: "2001:db8::5",
    query: dns("64:ff9b::c000:aa"),
    io: { listenRas: fakeRas("2001:db8:aa::/96", 600), pcpRequest: pcpAnswer("2001:db8:cc::/96") },
    onChange: (a) => changes.push(a?.source ?? "none"),
  });
  try {
    await waitFor(
      () => Object.values(d.status().methods).every((m) => m.state !== "starting"),
      "all methods",
    );
    await waitFor(() => d.status().learned.length === 3, "three learned prefixes");
    assert.equal(activeText(d), "pref64 2001:db8:aa::/96");
    const st = d.status();
    assert.deepEqual(st.learned.map((l) => l.source).sort(), ["pcp", "pref64", "rfc7050"]);
    assert.match(st.methods.rfc7050.state, /1 prefix/);
    assert.match(st.methods.pcp.state, /1 prefix/);
    assert.ok(changes.includes("pref64"));
  } finally {
    await d.stop();
  }
});

Deno.test("static config beats discovery; failures are reported per method and retried", async () => {
  let calls = 0;
  const d = startDiscovery({
    methods: ["static", "pcp", "rfc7050"],
    staticPrefixes: [parsePrefix6("2001:db8:5::/96")],
    pcpServer: "2001:db8::1",
    pcpClientAddress: "2001:db8::5",
    retryS: 0.01,
    query: () => Promise.reject(new Error("SERVFAIL")),
    io: { pcpRequest: () => (calls++, Promise.reject(new Error("no answer"))) },
  });
  try {
    await waitFor(() => calls >= 2, "a PCP retry");
    assert.equal(activeText(d), "static 2001:db8:5::/96");
    const st = d.status().methods;
    assert.equal(st.pcp.lastError, "no answer");
    assert.equal(st.rfc7050.lastError, "SERVFAIL");
  } finally {
    await d.stop();
  }
});

Deno.test("methods without what they need say so instead of failing", async () => {
  const d = startDiscovery({
    methods: ["pref64", "pcp", "rfc7050"],
    interface: null,
    pcpServer: null,
  });
  try {
    const st = d.status().methods;
    assert.equal(st.pref64.state, "off: no interface");
    assert.equal(st.pcp.state, "off: no server");
    assert.equal(st.rfc7050.state, "off: no resolver");
    assert.equal(activeText(d), "none");
  } finally {
    await d.stop();
  }
});
