import { randomUUID } from "node:crypto";
import { createServer } from "node:http";
import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { redactDeep, redactPhoneNumbers } from "../../server/src/logging/redact.js";
import { createLogger } from "../../server/src/logging/logger.js";

const E164 = "+919888800001";
const BARE = "919888800001";
const NATIONAL = "9888800001";
const ISO = "2026-11-24T16:00:00.000Z";
const ULID_ID = "ses_01JD3W5K7E8ZQ5N2C0V7X9T1AB";
const DIGIT_HEAVY_ULID = "par_0123456789ABCDEFGHJKMNPQRS";
const UUID = "12345678-1234-4234-8234-123456789012";

describe("redactPhoneNumbers", () => {
  it("masks international, bare and formatted numbers, keeping the last four digits", () => {
    expect(redactPhoneNumbers(`from ${E164} to ${BARE}`)).toBe("from +91******0001 to ********0001");
    expect(redactPhoneNumbers("call +91 98888 00001 now")).toBe("call +91******0001 now");
    expect(redactPhoneNumbers("(415) 555-1234")).toBe("(***) ***-1234");
    expect(redactPhoneNumbers("98888-00001")).toBe("*****-*0001");
    expect(redactPhoneNumbers("From=%2B919888800001&To=919000000002")).toBe("From=%2B91******0001&To=********0002");
    expect(redactPhoneNumbers(`{"from":"${E164}"}`)).toBe('{"from":"+91******0001"}');
  });

  it("masks two numbers written side by side as two numbers, and a longer digit run whole but its last four", () => {
    expect(redactPhoneNumbers(`number ${E164} (${BARE}) for account`)).toBe("number +91******0001 (********0001) for account");
    expect(redactPhoneNumbers(`${BARE}${BARE}`)).toBe(`${"*".repeat(20)}0001`);
    expect(redactPhoneNumbers(`+${BARE} ${BARE} ${BARE}`)).toBe("+91******0001 ********0001 ********0001");
  });

  it("leaves timestamps, ids, UUIDs and short numbers alone", () => {
    const text = `at ${ISO} / 2026-11-24 16:00:00 / ${ULID_ID} ${DIGIT_HEAVY_ULID} ${UUID} port 6379 status 200 pid 123456 v1.2.3`;
    expect(redactPhoneNumbers(text)).toBe(text);
  });

  it("is idempotent (masking masked text changes nothing)", () => {
    const once = redactPhoneNumbers(`a ${E164} b ${BARE} c 98888 00001`);
    expect(redactPhoneNumbers(once)).toBe(once);
  });
});

describe("identifiers survive the phone scrubber", () => {
  it("leaves 10,000 random request ids unchanged, in free text and as JSON", () => {
    const changed: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      const id = `req_${randomUUID()}`;
      for (const text of [id, `request ${id} failed`, `{"requestId":"${id}"}`]) {
        if (redactPhoneNumbers(text) !== text) changed.push(text);
      }
    }
    expect(changed).toEqual([]);
  });

  it("leaves ids with any prefix before a UUID alone (digit-only UUID groups included)", () => {
    for (const id of [
      "req_bab025ed-9279-4705-9f4a-dbb7caf31c1e",
      "call_45117d37-c214-4287-8796-6aec2d19b3fe",
      "ses_12345678-1234-4234-8234-123456789012",
      "order-12345678-1234-4234-8234-123456789012",
      "x12345678-1234-4234-8234-123456789012",
    ]) {
      expect(redactPhoneNumbers(`id ${id} done`)).toBe(`id ${id} done`);
    }
  });

  it("still masks a number written right after an id", () => {
    expect(redactPhoneNumbers(`req_bab025ed-9279-4705-9f4a-dbb7caf31c1e ${E164}`)).toBe(
      "req_bab025ed-9279-4705-9f4a-dbb7caf31c1e +91******0001",
    );
    expect(redactPhoneNumbers(`ses_01JD3W5K7E8ZQ5N2C0V7X9T1AB:${BARE}`)).toBe("ses_01JD3W5K7E8ZQ5N2C0V7X9T1AB:********0001");
  });
});

describe("redactDeep", () => {
  it("walks objects, arrays, maps and errors without modifying the input", () => {
    const input = { a: E164, list: [{ deep: { n: BARE } }], map: new Map([["k", NATIONAL]]), at: ISO, id: ULID_ID };
    const out = redactDeep(input);
    expect(JSON.stringify(out)).not.toMatch(/9888800001/);
    expect(out).toMatchObject({ a: "+91******0001", at: ISO, id: ULID_ID, map: { k: "******0001" } });
    expect(input.a).toBe(E164);
  });

  it("masks keys too", () => {
    expect(redactDeep({ [E164]: 1 })).toEqual({ "+91******0001": 1 });
  });

  it("survives cycles and deep nesting", () => {
    const a: Record<string, unknown> = { n: E164 };
    a.self = a;
    expect(redactDeep(a)).toEqual({ n: "+91******0001", self: "[Circular]" });

    let deep: Record<string, unknown> = { n: E164 };
    for (let i = 0; i < 100; i++) deep = { next: deep };
    expect(JSON.stringify(redactDeep(deep))).toContain("[MaxDepth]");

    const shared = { n: E164 };
    expect(redactDeep({ x: shared, y: shared })).toEqual({ x: { n: "+91******0001" }, y: { n: "+91******0001" } });
  });

  it("turns errors into plain objects with redacted message, stack and cause", () => {
    const err = new Error(`dial ${E164} failed`, { cause: new Error(`no route to ${BARE}`) });
    const out = redactDeep(err) as Record<string, unknown>;
    expect(out.type).toBe("Error");
    expect(out.message).toBe("dial +91******0001 failed");
    expect(String(out.stack)).toContain("dial +91******0001 failed");
    expect(JSON.stringify(out)).not.toMatch(/9888800001/);
  });

  it("bounds the work on huge values", () => {
    const out = redactDeep(Array.from({ length: 10_000 }, () => ({ n: E164 }))) as unknown[];
    expect(out).toHaveLength(10_000);
    expect(out.at(-1)).toBe("[Truncated]");
    expect(JSON.stringify(out)).not.toMatch(/9888800001/);
  });

  it("leaves non-strings as they are", () => {
    expect(redactDeep(42)).toBe(42);
    expect(redactDeep(null)).toBeNull();
    expect(redactDeep(true)).toBe(true);
  });
});

function memoryLogger() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      lines.push(...String(chunk).split("\n").filter(Boolean));
      cb();
    },
  });
  // pino accepts any object with write(); a sync-ish Writable keeps the test deterministic.
  const logger = createLogger({ level: "debug", destination });
  const output = () => lines.join("\n");
  const records = () => lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  return { logger, output, records };
}

describe("createLogger", () => {
  it("never emits a real number: message, printf args, nested objects, child bindings, errors, URLs", () => {
    const { logger, output, records } = memoryLogger();
    logger.info(`incoming call from ${E164} to ${BARE}`);
    logger.info("dialling %s (%o)", E164, { to: BARE });
    logger.info({ call: { from: E164, legs: [{ to: BARE }] }, sessionId: ULID_ID, at: ISO }, "routed");
    logger.child({ from: E164 }).warn("child bindings");
    logger.error(new Error(`carrier rejected ${E164}`));
    logger.error(new Error(`carrier rejected ${BARE}`), "with message");
    logger.error({ err: new Error(`boom ${E164}`) }, "wrapped");
    logger.error({ err: new Error(`bare ${BARE}`) });
    logger.info({ req: { method: "POST", url: `/v1/vobiz/app_1/answer?From=${BARE}&To=%2B${BARE}&k=s3cr3t`, headers: { authorization: "Bearer x", "user-agent": "Vobiz/1.0" } } }, "request");
    logger.info({ bytes: 10485760, expiresAt: 1795968000000, note: `re ${E164}` }, "numeric fields");

    const text = output();
    expect(text).not.toContain(E164);
    expect(text).not.toContain(BARE);
    expect(text).not.toContain(NATIONAL);
    expect(text).not.toContain("s3cr3t");
    expect(text).not.toContain("Bearer");
    expect(text).toContain("+91******0001");

    const recs = records();
    expect(recs).toHaveLength(10);
    expect(recs.find((r) => String(r.msg).startsWith("bare "))?.msg).toBe("bare ********0001");
    // JSON numbers are left alone (masking them would break the JSON and lose useful values); the line stays valid.
    expect(recs.find((r) => r.msg === "numeric fields")).toMatchObject({ bytes: 10485760, expiresAt: 1795968000000, note: "re +91******0001" });
    const routed = recs.find((r) => r.msg === "routed")!;
    expect(routed.sessionId).toBe(ULID_ID);
    expect(routed.at).toBe(ISO);
    const withMessage = recs.find((r) => r.msg === "with message")!;
    expect((withMessage.err as Record<string, unknown>).message).toBe("carrier rejected ********0001");
    const plainError = recs.find((r) => String(r.msg).startsWith("carrier rejected +91"))!;
    expect((plainError.err as Record<string, unknown>).stack).toMatch(/^Error: carrier rejected \+91\*{6}0001\n/);
    const req = recs.find((r) => r.msg === "request")!.req as Record<string, unknown>;
    expect(req).toEqual({
      method: "POST",
      url: "/v1/vobiz/app_1/answer?From=********0001&To=%2B91******0001&k=[redacted]",
      userAgent: "Vobiz/1.0",
    });
  });

  it("reduces a real Node request to method, URL (secret k dropped, numbers masked) and user agent", async () => {
    const received = new Promise<IncomingMessage>((resolve) => {
      const server = createServer((req, res) => {
        resolve(req);
        res.end();
        server.close();
      }).listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo;
        void fetch(`http://127.0.0.1:${port}/v1/vobiz/app_1/answer?k=topsecret&From=%2B${BARE}`, {
          method: "POST",
          headers: { authorization: "Bearer sk_live_hunter2", "user-agent": "Vobiz-Webhook/2.0", "x-from": E164 },
          body: "From=" + BARE,
        });
      });
    });
    const req = await received;
    const { logger, output, records } = memoryLogger();
    logger.info({ req }, "incoming");
    expect(records()[0]!.req).toEqual({
      method: "POST",
      url: "/v1/vobiz/app_1/answer?k=[redacted]&From=%2B91******0001",
      userAgent: "Vobiz-Webhook/2.0",
    });
    expect(output()).not.toMatch(/topsecret|hunter2|9888800001/);
  });

  it("logs request ids (ours and callers') unchanged in bindings, fields and messages, and still masks numbers", () => {
    const { logger, records } = memoryLogger();
    const ours = Array.from({ length: 2_000 }, () => `req_${randomUUID()}`);
    // Caller-supplied X-Request-Id values pass /^[A-Za-z0-9._:-]{1,128}$/ and may hold long digit runs.
    const callers = ["order-2026-1234567-a", "trace.00012345678.b", "abc:98765432:def", "1732464000123-x"];
    for (const requestId of [...ours, ...callers]) {
      logger.child({ requestId }).info({ path: `/v1/sessions`, note: `for ${E164}` }, "request");
      logger.warn({ requestId, to: BARE }, `retrying ${requestId}`);
    }
    const recs = records();
    const expected = [...ours, ...callers].flatMap((id) => [id, id]);
    expect(recs.map((r) => r.requestId)).toEqual(expected);
    for (const rec of recs) {
      if (rec.msg === "request") expect(rec.note).toBe("for +91******0001");
      else expect(rec.to).toBe("********0001");
    }
    // In free text only the shape can protect an id: ours (req_<uuid>) keep theirs.
    for (const rec of recs.filter((r) => r.level === 40 && ours.includes(String(r.requestId)))) {
      expect(rec.msg).toBe(`retrying ${String(rec.requestId)}`);
    }
  });

  it("masks a caller's request id that is itself a phone number", () => {
    const { logger, output } = memoryLogger();
    logger.child({ requestId: BARE }).info("request");
    logger.info({ requestId: NATIONAL }, "request");
    expect(output()).not.toMatch(/9888800001/);
  });

  it("keeps ISO timestamps, pid and level, and no hostname", () => {
    const { logger, records } = memoryLogger();
    logger.info({ id: ULID_ID }, "hello");
    const [rec] = records();
    expect(rec).toMatchObject({ level: 30, pid: process.pid, id: ULID_ID, msg: "hello" });
    expect(String(rec!.time)).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(rec).not.toHaveProperty("hostname");
  });

  it("respects the level", () => {
    const { output } = memoryLogger();
    const lines: string[] = [];
    const logger = createLogger({ level: "warn", destination: { write: (s: string) => void lines.push(s) } });
    logger.info("quiet");
    logger.warn("loud");
    expect(lines).toHaveLength(1);
    expect(output()).toBe("");
  });
});
