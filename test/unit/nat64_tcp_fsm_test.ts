// RFC 6146 3.5.2.2 TCP state machine, one test per transition (the engine-level tests in
// nat64_engine_test.ts drive the same transitions with packets and a virtual clock).
import assert from "node:assert/strict";
import { LIFE, lifeAction, nextState, TCP, tcpTransition } from "../../src/nat64/tcp_fsm.ts";
import { TCP_FLAG } from "../../src/packet/l4.ts";

const { SYN, FIN, RST, ACK } = TCP_FLAG;
const V6 = true, V4 = false;
function go(state: number, fromV6: boolean, flags: number): [number, number] {
  const t = tcpTransition(state, fromV6, flags);
  return [nextState(t), lifeAction(t)];
}

Deno.test("RFC 6146 3.5.2.2 V4 INIT: a V6 SYN moves to ESTABLISHED with lifetime TCP_EST", () => {
  assert.deepEqual(go(TCP.V4_INIT, V6, SYN | ACK), [TCP.ESTABLISHED, LIFE.EST]);
  assert.deepEqual(go(TCP.V4_INIT, V4, SYN), [TCP.V4_INIT, LIFE.KEEP]);
  assert.deepEqual(go(TCP.V4_INIT, V6, ACK), [TCP.V4_INIT, LIFE.KEEP]);
});

Deno.test("RFC 6146 3.5.2.2 V6 INIT: a V4 SYN moves to ESTABLISHED (simultaneous open too); a V6 SYN refreshes TCP_TRANS", () => {
  assert.deepEqual(go(TCP.V6_INIT, V4, SYN | ACK), [TCP.ESTABLISHED, LIFE.EST]);
  assert.deepEqual(go(TCP.V6_INIT, V4, SYN), [TCP.ESTABLISHED, LIFE.EST]);
  assert.deepEqual(go(TCP.V6_INIT, V6, SYN), [TCP.V6_INIT, LIFE.TRANS]);
  assert.deepEqual(go(TCP.V6_INIT, V4, ACK), [TCP.V6_INIT, LIFE.KEEP]);
});

Deno.test("RFC 6146 3.5.2.2 ESTABLISHED: V4 FIN -> V4 FIN RCV, V6 FIN -> V6 FIN RCV, RST -> TRANS, else TCP_EST", () => {
  assert.deepEqual(go(TCP.ESTABLISHED, V4, FIN | ACK), [TCP.V4_FIN_RCV, LIFE.EST]);
  assert.deepEqual(go(TCP.ESTABLISHED, V6, FIN | ACK), [TCP.V6_FIN_RCV, LIFE.EST]);
  assert.deepEqual(go(TCP.ESTABLISHED, V4, RST), [TCP.TRANS, LIFE.TRANS]);
  assert.deepEqual(go(TCP.ESTABLISHED, V6, RST | ACK), [TCP.TRANS, LIFE.TRANS]);
  assert.deepEqual(go(TCP.ESTABLISHED, V6, ACK), [TCP.ESTABLISHED, LIFE.EST]);
  assert.deepEqual(go(TCP.ESTABLISHED, V4, ACK), [TCP.ESTABLISHED, LIFE.EST]);
});

Deno.test("RFC 6146 3.5.2.2 V4 FIN RCV: a V6 FIN moves to V4 FIN + V6 FIN RCV with TCP_TRANS", () => {
  assert.deepEqual(go(TCP.V4_FIN_RCV, V6, FIN | ACK), [TCP.V4_FIN_V6_FIN_RCV, LIFE.TRANS]);
  assert.deepEqual(go(TCP.V4_FIN_RCV, V4, FIN), [TCP.V4_FIN_RCV, LIFE.EST]);
  assert.deepEqual(go(TCP.V4_FIN_RCV, V6, ACK), [TCP.V4_FIN_RCV, LIFE.EST]);
});

Deno.test("RFC 6146 3.5.2.2 V6 FIN RCV: a V4 FIN moves to V4 FIN + V6 FIN RCV with TCP_TRANS", () => {
  assert.deepEqual(go(TCP.V6_FIN_RCV, V4, FIN | ACK), [TCP.V4_FIN_V6_FIN_RCV, LIFE.TRANS]);
  assert.deepEqual(go(TCP.V6_FIN_RCV, V6, FIN), [TCP.V6_FIN_RCV, LIFE.EST]);
  assert.deepEqual(go(TCP.V6_FIN_RCV, V4, ACK), [TCP.V6_FIN_RCV, LIFE.EST]);
});

Deno.test("RFC 6146 3.5.2.2 V4 FIN + V6 FIN RCV: packets pass, the lifetime is not extended", () => {
  for (const f of [ACK, FIN, SYN, RST]) {
    for (const d of [V4, V6]) {
      assert.deepEqual(go(TCP.V4_FIN_V6_FIN_RCV, d, f), [TCP.V4_FIN_V6_FIN_RCV, LIFE.KEEP]);
    }
  }
});

Deno.test("RFC 6146 3.5.2.2 TRANS: a non-RST packet returns to ESTABLISHED with TCP_EST; RST keeps TRANS", () => {
  assert.deepEqual(go(TCP.TRANS, V4, ACK), [TCP.ESTABLISHED, LIFE.EST]);
  assert.deepEqual(go(TCP.TRANS, V6, ACK), [TCP.ESTABLISHED, LIFE.EST]);
  assert.deepEqual(go(TCP.TRANS, V6, RST), [TCP.TRANS, LIFE.KEEP]);
  assert.deepEqual(go(TCP.TRANS, V4, RST | ACK), [TCP.TRANS, LIFE.KEEP]);
});
