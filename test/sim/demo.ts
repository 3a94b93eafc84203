/**
 * `pnpm demo`: the seed's story, told against a running local Maskline (start it with `pnpm start`).
 * It plays the carrier with the Vobiz simulator: signed webhooks, real XML parsing, following each <Dial>.
 *
 *   MASKLINE_URL          where the service listens (default: the URL the embedded service started from this folder
 *                         wrote to $MASKLINE_DATA_DIR/server.json, ./.maskline; else http://localhost:$PORT, 8080)
 *   MASKLINE_ADMIN_TOKEN  operator token (default: read from $MASKLINE_DATA_DIR/secrets.json, ./.maskline)
 * These are the CLI's rules (cli/src/config.ts), so `pnpm demo` and `pnpm maskline` find the same service.
 *
 * It also starts a local event receiver and registers it as the tenant's webhook endpoint; that needs the service
 * started with MASKLINE_WEBHOOK_ALLOW_PRIVATE=true (the receiver listens on 127.0.0.1). Then click-to-call, a
 * recorded call and a PIN line (demo-flows.ts), with the carrier's REST side simulated on 127.0.0.1:8091: start the
 * service with VOBIZ_API_BASE_URL=http://127.0.0.1:8091/api/v1 to see all of them.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { Maskline, MasklineError } from "@maskline/sdk";
import { localAdminToken, serviceUrl } from "../../cli/src/config.js";
import { VobizSimulator, type CallResult } from "./vobiz-simulator.js";
import { startDemoReceiver, type DemoReceiver } from "./demo-receiver.js";
import { runCallFlows, startDemoCarrier } from "./demo-flows.js";

const baseUrl = serviceUrl(process.env);
const AGENT = "+919888800001";
const CUSTOMER = "+919888800002";
const STRANGER = "+919777700003";

function adminToken(): string {
  const token = process.env.MASKLINE_ADMIN_TOKEN ?? localAdminToken(process.env);
  if (token) return token;
  const path = join(process.env.MASKLINE_DATA_DIR ?? ".maskline", "secrets.json");
  throw new Error(`no MASKLINE_ADMIN_TOKEN and no ${path}: start the service with \`pnpm start\` first`);
}

const say = (line = "") => process.stdout.write(line + "\n");
const step = (n: number, text: string) => say(`\n${n}. ${text}`);

function describe(call: CallResult): string {
  if (call.kind === "dial" && call.dial) {
    return `Maskline answers <Dial callerId="${call.dial.callerId}"> → rings ${call.dial.numbers.join(", ")}`;
  }
  if (call.kind === "reject") return `Maskline turns the call away: "${(call.speak ?? []).join(" ")}" + <Hangup reason="${call.hangupReason}"/>`;
  if (call.gather) return `Maskline asks again: "${[...(call.speak ?? []), call.gather.prompt ?? ""].join(" ").trim()}" <Gather numDigits="${call.gather.numDigits}">`;
  return `Maskline answers ${call.kind} (HTTP ${call.status})`;
}

async function main() {
  const admin = new Maskline({ adminToken: adminToken(), baseUrl, maxRetries: 0 });
  say(`Maskline demo against ${baseUrl}`);
  const { tenant, apiKey } = await admin.admin.tenants.create({ name: `Demo Deliveries ${new Date().toISOString()}` });
  const maskline = new Maskline({ apiKey: apiKey.secret, baseUrl });
  const vobizToken = randomBytes(16).toString("hex");
  const app = await maskline.apps.create({ name: "Deliveries", vobizAuthId: "MA_DEMO", vobizAuthToken: vobizToken });
  say(`Tenant ${tenant.id} registered Vobiz app ${app.id}; answer URL: ${app.answerUrl.replace(/k=[^&]+/, "k=…")}`);

  // The story's DIDs; if an earlier demo still holds them, two others from the same range.
  let dids = ["+919000000001", "+919000000002"];
  let imported;
  try {
    imported = await maskline.numbers.create({ appId: app.id, numbers: dids, pool: "default" });
  } catch (err) {
    if (!(err instanceof MasklineError) || err.status !== 409) throw err;
    const n = 10 + Math.floor(Math.random() * 80_000_000);
    dids = [`+9190${String(n).padStart(8, "0")}`, `+9190${String(n + 1).padStart(8, "0")}`];
    imported = await maskline.numbers.create({ appId: app.id, numbers: dids, pool: "default" });
  }
  say(`Imported masking DIDs ${dids.join(" and ")} into pool "default"`);

  const receiver = await startDemoReceiver((event) => {
    const data = event.data as { id?: string; decision?: string; status?: string; pool?: string };
    const what = "decision" in data && data.decision ? `decision=${data.decision}` : data.status ? `status=${data.status}` : "";
    say(`   ⇠ event ${event.type.padEnd(16)} ${data.id ?? data.pool ?? ""} ${what} (signature verified)`);
  });
  let eventsOn: DemoReceiver | null = null;
  try {
    const endpoint = await maskline.webhookEndpoints.create({ url: receiver.url, description: "demo receiver" });
    receiver.setSecret(endpoint.secret);
    eventsOn = receiver;
    say(`Registered webhook endpoint ${endpoint.id} → ${receiver.url} (secret shown once, kept by the receiver)`);
  } catch (err) {
    if (!(err instanceof MasklineError) || err.status !== 422) throw err;
    say("Events: not shown. The receiver listens on 127.0.0.1; start the service with MASKLINE_WEBHOOK_ALLOW_PRIVATE=true to see them.");
  }

  const carrier = new VobizSimulator({ authToken: vobizToken, answerUrl: app.answerUrl, hangupUrl: app.hangupUrl });
  const rest = await startDemoCarrier(app.vobizAuthId, vobizToken, say);
  const extraDids: string[] = [];
  try {
    const session = await maskline.sessions.create({
      participants: [{ number: AGENT, label: "agent" }, { number: CUSTOMER, label: "customer" }],
      ttlSeconds: 1800,
      reference: "order-8812",
    });
    const [agent, customer] = session.participants;
    const m1 = agent!.proxyNumber;
    const m2 = customer!.proxyNumber;
    say(`Order order-8812: session ${session.id} (${session.status})`);
    say(`  agent    ${agent!.maskedNumber} dials ${m1} (M1)`);
    say(`  customer ${customer!.maskedNumber} dials ${m2} (M2)`);

    step(1, `The agent dials M1 (${m1}).`);
    const call1 = await carrier.placeCall({ from: AGENT, to: m1 });
    say(`   ${describe(call1)}`);
    say(`   The customer's phone rings showing ${call1.dial?.callerId} (M2${call1.dial?.callerId === m2 ? "" : "?!"}); they talk for 95 s.`);
    await carrier.completeCall(call1, { dialStatus: "completed", durationSeconds: 95 });

    step(2, `The customer calls back M2 (${m2}).`);
    const call2 = await carrier.placeCall({ from: CUSTOMER, to: m2 });
    say(`   ${describe(call2)}`);
    say(`   The agent's phone rings showing ${call2.dial?.callerId} (M1${call2.dial?.callerId === m1 ? "" : "?!"}).`);
    await carrier.completeCall(call2, { dialStatus: "completed", durationSeconds: 40 });

    step(3, `An unregistered phone (${STRANGER.slice(0, 3)}******${STRANGER.slice(-4)}) dials M1.`);
    const call3 = await carrier.placeCall({ from: STRANGER, to: m1 });
    say(`   ${describe(call3)}`);
    await carrier.completeCall(call3);

    step(4, "The order is delivered: the app closes the session.");
    const closed = await maskline.sessions.close(session.id);
    say(`   session ${closed.id} is ${closed.status}`);
    const call4 = await carrier.placeCall({ from: AGENT, to: m1 });
    say(`   The agent dials M1 again. ${describe(call4)}`);
    await carrier.completeCall(call4);

    say("\nCall records (GET /v1/calls, no real numbers in them):");
    for await (const call of maskline.calls.list({ limit: 10 })) {
      say(`   ${call.id}  ${call.decision.padEnd(24)} via ${call.proxyNumber}  status=${call.status}  dial=${call.dialStatus ?? "-"}  ${call.durationSeconds ?? 0}s`);
    }
    const ok =
      call1.dial?.callerId === m2 && call1.dial.numbers[0] === CUSTOMER &&
      call2.dial?.callerId === m1 && call2.dial.numbers[0] === AGENT &&
      call3.kind === "reject" && call4.kind === "reject";
    say(ok ? "\nThe story holds: masked both ways, strangers turned away, nothing connects after delivery." : "\nThe story did NOT hold.");
    if (!ok) process.exitCode = 1;

    say("\nBeyond the two-row lookup:");
    const flows = await runCallFlows(
      { maskline, carrier, rest, appId: app.id, agent: AGENT, customer: CUSTOMER, stranger: STRANGER, say, step, describe, imported: extraDids },
      5,
    );
    say(flows ? "\nThe call flows hold: click-to-call, recording with consent, PIN line." : "\nThe call flows did NOT all hold.");
    if (!flows) process.exitCode = 1;
    if (eventsOn) {
      // session.created, 4 × call.started, 3 bridged/rejected completions, answers, session.closed: at least 10.
      const expected = 10;
      const arrived = await eventsOn.waitFor(expected, 20_000);
      say(`\nEvents received and verified: ${eventsOn.events.length}${eventsOn.refused ? `, refused: ${eventsOn.refused}` : ""}`);
      if (!arrived || eventsOn.refused > 0) {
        say("The events did NOT all arrive verified.");
        process.exitCode = 1;
      }
    }
  } finally {
    await receiver.close();
    await rest?.close();
    for (const id of extraDids) await maskline.numbers.delete(id).catch(() => undefined);
    // Release the DIDs so the next demo run can use the same numbers.
    for (const n of imported.data) await maskline.numbers.delete(n.id).catch(() => undefined);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
