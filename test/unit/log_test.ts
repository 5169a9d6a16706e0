import assert from "node:assert/strict";
import { reset } from "@logtape/logtape";
import { getLogger, setupLogging } from "../../src/log.ts";

Deno.test("log: text format is one human-readable line per record, below-level records dropped", async () => {
  const lines: string[] = [];
  try {
    await setupLogging({ level: "info", format: "text", write: (l) => lines.push(l) });
    getLogger("dns").info("listening on {addr}", { addr: "127.0.0.1:53" });
    getLogger(["nat64", "bib"]).debug("not shown");
    getLogger("main").error("failed: {n}", { n: 3 });
    assert.equal(lines.length, 2);
    assert.match(lines[0], /\[INF\] xlat64\.dns: listening on 127\.0\.0\.1:53\n$/);
    assert.match(lines[1], /\[ERR\] xlat64\.main: failed: 3\n$/);
  } finally {
    await reset();
  }
});

Deno.test("log: json format writes JSON lines with the properties", async () => {
  const lines: string[] = [];
  try {
    await setupLogging({ level: "debug", format: "json", write: (l) => lines.push(l) });
    getLogger(["nat64", "bib"]).debug("added {proto} entry", { proto: "tcp" });
    getLogger("x").trace("not shown");
    assert.equal(lines.length, 1);
    assert.ok(lines[0].endsWith("\n"));
    const rec = JSON.parse(lines[0]);
    assert.equal(rec.level, "DEBUG");
    assert.equal(rec.logger, "xlat64.nat64.bib");
    assert.equal(rec.properties.proto, "tcp");
    assert.match(rec.message, /added "?tcp"? entry/);
  } finally {
    await reset();
  }
});

Deno.test("log: setupLogging can be called again to change level and format", async () => {
  const lines: string[] = [];
  try {
    await setupLogging({ level: "error", format: "text", write: (l) => lines.push(l) });
    getLogger("a").warn("dropped");
    await setupLogging({ level: "warning", format: "json", write: (l) => lines.push(l) });
    getLogger("a").warn("kept");
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).message, "kept");
  } finally {
    await reset();
  }
});
