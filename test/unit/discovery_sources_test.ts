import assert from "node:assert/strict";
import { formatPrefix6, parsePrefix6 } from "../../src/addr/ip.ts";
import { PrefixSources } from "../../src/discovery/sources.ts";

const P = parsePrefix6;
function setup(precedence?: ("static" | "pref64" | "pcp" | "rfc7050")[]) {
  let now = 100;
  const s = new PrefixSources({ precedence, now: () => now });
  return { s, tick: (d: number) => now += d };
}
const active = (s: PrefixSources) => {
  const a = s.active();
  return a ? `${a.source} ${a.prefixes.map((e) => formatPrefix6(e.prefix)).join(" ")}` : "none";
};

Deno.test("precedence: static > pref64 > pcp > rfc7050 by default", () => {
  const { s } = setup();
  assert.equal(
    s.update("rfc7050", "resolver", [{ prefix: P("64:ff9b::/96"), lifetimeS: 300 }], {
      replace: true,
    }),
    true,
  );
  assert.equal(active(s), "rfc7050 64:ff9b::/96");
  s.update("pcp", "2001:db8::1", [{ prefix: P("2001:db8:64::/96"), lifetimeS: 300 }], {
    replace: true,
  });
  assert.equal(active(s), "pcp 2001:db8:64::/96");
  s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:99::/96"), lifetimeS: 600 }]);
  assert.equal(active(s), "pref64 2001:db8:99::/96");
  s.setStatic([P("2001:db8:5::/96")]);
  assert.equal(active(s), "static 2001:db8:5::/96");
  assert.equal(formatPrefix6(s.primary()!), "2001:db8:5::/96");
});

Deno.test("precedence is configurable and disabled methods are ignored", () => {
  const { s } = setup(["rfc7050", "pref64"]);
  assert.equal(s.update("pcp", "x", [{ prefix: P("2001:db8:64::/96"), lifetimeS: 300 }]), false);
  s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:99::/96"), lifetimeS: 600 }]);
  s.update("rfc7050", "resolver", [{ prefix: P("64:ff9b::/96"), lifetimeS: 300 }]);
  assert.equal(active(s), "rfc7050 64:ff9b::/96");
  assert.throws(
    () => new PrefixSources({ precedence: ["dhcp" as never], now: () => 0 }),
    /unknown/,
  );
  assert.throws(() => new PrefixSources({ precedence: ["pcp", "pcp"], now: () => 0 }), /twice/);
});

Deno.test("RFC 8781 5: lifetimes expire, a lower source takes over; lifetime 0 withdraws at once", () => {
  const { s, tick } = setup();
  s.update("rfc7050", "resolver", [{ prefix: P("64:ff9b::/96"), lifetimeS: 3600 }]);
  s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:99::/96"), lifetimeS: 600 }]);
  assert.equal(s.nextExpiryS(), 700);
  tick(599);
  assert.equal(s.expire(), false);
  tick(1);
  assert.equal(s.expire(), true);
  assert.equal(active(s), "rfc7050 64:ff9b::/96");
  s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:99::/96"), lifetimeS: 600 }]);
  assert.equal(active(s), "pref64 2001:db8:99::/96");
  assert.equal(
    s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:99::/96"), lifetimeS: 0 }]),
    true,
  );
  assert.equal(active(s), "rfc7050 64:ff9b::/96");
});

Deno.test("RFC 8781 5: an RA refreshes the prefixes it carries and keeps the others (merge)", () => {
  const { s, tick } = setup();
  s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:1::/96"), lifetimeS: 600 }, {
    prefix: P("2001:db8:2::/96"),
    lifetimeS: 600,
  }]);
  tick(300);
  s.update("pref64", "fe80::1", [{ prefix: P("2001:db8:2::/96"), lifetimeS: 600 }]);
  assert.equal(active(s), "pref64 2001:db8:1::/96 2001:db8:2::/96", "both live, oldest first");
  tick(300);
  assert.equal(active(s), "pref64 2001:db8:2::/96");
});

Deno.test("PCP and RFC 7050 answers replace the origin's whole set", () => {
  const { s } = setup();
  s.update("pcp", "srv", [{ prefix: P("2001:db8:1::/96"), lifetimeS: 600 }, {
    prefix: P("2001:db8:2::/96"),
    lifetimeS: 600,
  }], { replace: true });
  s.update("pcp", "srv", [{ prefix: P("2001:db8:2::/96"), lifetimeS: 600 }], { replace: true });
  assert.equal(active(s), "pcp 2001:db8:2::/96");
});

Deno.test("multiplicity: the same prefix from two routers is listed once and survives one withdrawal", () => {
  const { s } = setup();
  s.update("pref64", "fe80::1", [{ prefix: P("64:ff9b::/96"), lifetimeS: 600 }]);
  s.update("pref64", "fe80::2", [{ prefix: P("64:ff9b::/96"), lifetimeS: 600 }]);
  assert.equal(active(s), "pref64 64:ff9b::/96");
  assert.equal(s.withdraw("pref64", "fe80::1"), false);
  assert.equal(active(s), "pref64 64:ff9b::/96");
  assert.equal(s.withdraw("pref64"), true);
  assert.equal(active(s), "none");
  assert.equal(s.primary(), null);
});

Deno.test("status() reports precedence, the active choice and every learned prefix with its lifetime", () => {
  const { s, tick } = setup();
  s.setStatic([]);
  s.update("pref64", "fe80::1", [{ prefix: P("64:ff9b::/96"), lifetimeS: 600 }]);
  tick(100);
  const st = s.status();
  assert.deepEqual(st.precedence, ["static", "pref64", "pcp", "rfc7050"]);
  assert.deepEqual(st.active, { source: "pref64", prefixes: ["64:ff9b::/96"] });
  assert.deepEqual(st.learned, [{
    prefix: "64:ff9b::/96",
    source: "pref64",
    origin: "fe80::1",
    learnedAgoS: 100,
    expiresInS: 500,
  }]);
  const gen = s.generation;
  s.update("pref64", "fe80::1", [{ prefix: P("64:ff9b::/96"), lifetimeS: 600 }]);
  assert.equal(s.generation, gen, "a refresh that changes nothing does not bump the generation");
});
