/**
 * The SDK's privacy operations against a real server: a person's erasure and export requested, followed to the end,
 * and listed; the operator's key-rotation status read; another tenant's erasure is a NotFoundError. The built package
 * (sdk/dist) is what is tested.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Maskline, NotFoundError, type Erasure, type Export } from "@maskline/sdk";
import { startTestServer, type TestServer } from "../support/harness.js";
import { createSession, people, tenantWithPool } from "../support/fixtures.js";
import { expectNoRealNumbers } from "../support/privacy.js";
import { createJobRunner, type JobRunner } from "../../server/src/jobs/runner.js";
import { createJobRegistry } from "../../server/src/jobs/kinds.js";
import { eraseJob, exportJob } from "../../server/src/jobs/privacy.js";

let server: TestServer;
let runner: JobRunner;
beforeAll(async () => {
  server = await startTestServer();
  runner = createJobRunner(server.deps, createJobRegistry([eraseJob, exportJob]), { random: () => 0.5 });
});
afterAll(async () => {
  await runner?.stop();
  await server?.stop();
});

async function settled<T extends { status: string }>(read: () => Promise<T>): Promise<T> {
  for (let i = 0; i < 20; i++) {
    await runner.runDue();
    const now = await read();
    if (now.status === "completed" || now.status === "failed") return now;
  }
  throw new Error("the privacy job did not finish");
}

describe("@maskline/sdk privacy operations", () => {
  it("exports, then erases a person, following each to completion; the operator reads the key rotation", async () => {
    const t = await tenantWithPool(server, { dids: 2 });
    const [alice, bob] = people(2);
    const opened = await createSession(server, t.apiKey, { participants: [{ number: alice }, { number: bob }] });
    expect(opened.status).toBe(201);
    const maskline = new Maskline({ apiKey: t.apiKey, baseUrl: server.baseUrl });

    const requested: Export = await maskline.exports.create({ number: alice! });
    expect(requested.status).toBe("pending");
    const exported = await settled(() => maskline.exports.get(requested.id));
    expect(exported.status).toBe("completed");
    expect(JSON.stringify(exported.result)).toContain((await opened.json() as { id: string }).id);

    const erasure: Erasure = await maskline.erasures.create({ number: alice! });
    expect(erasure).toMatchObject({ status: "pending", counts: null });
    const done = await settled(() => maskline.erasures.get(erasure.id));
    expect(done.status).toBe("completed");
    expect(done.counts).toMatchObject({ participants: 1, sessionsClosed: 1 });
    expect((await maskline.erasures.list().toArray()).map((e) => e.id)).toContain(erasure.id);
    expectNoRealNumbers(JSON.stringify([requested, exported, erasure, done]), [alice!, bob!]);

    const other = await server.createTenant();
    const intruder = new Maskline({ apiKey: other.apiKey, baseUrl: server.baseUrl });
    await expect(intruder.erasures.get(erasure.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(intruder.exports.get(requested.id)).rejects.toBeInstanceOf(NotFoundError);

    const operator = new Maskline({ adminToken: server.adminToken, baseUrl: server.baseUrl });
    const rotation = await operator.admin.keyRotation.get();
    // No rotation under way in this configuration; `complete` is the whole database's (shared with other files), so
    // only its type is this test's business.
    expect(rotation).toMatchObject({ currentKeyId: expect.any(String), previousKeyIds: [], complete: expect.any(Boolean) });
  });
});
