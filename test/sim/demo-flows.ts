/**
 * `pnpm demo`, after the two-way story: the call flows beyond it (docs/call-flows.md), played against the running
 * service with the carrier simulator's both sides.
 *
 *   1. Click-to-call: Maskline asks the carrier (the REST simulator) to ring the agent, showing the agent's own DID;
 *      the agent answers and the customer is dialled, seeing theirs.
 *   2. Recording with consent: a session that records; the caller hears the notice, the call is recorded, and the
 *      recording is listed, streamed through Maskline (the bytes the carrier stored) and deleted at the carrier.
 *   3. A single-number PIN line: one DID, a PIN each; the right PIN connects, three wrong ones lock a stranger out.
 *
 * Click-to-call and the recording's audio need the service to reach the REST simulator, started here on
 * 127.0.0.1:$MASKLINE_DEMO_CARRIER_PORT (8091): the service must run with VOBIZ_API_BASE_URL pointing at it.
 */
import { Maskline, MasklineError, type Session } from "@maskline/sdk";
import { VobizSimulator, type CallResult } from "./vobiz-simulator.js";
import { VobizRestServer } from "./vobiz-rest-server.js";

export const DEMO_CARRIER_PORT = Number(process.env.MASKLINE_DEMO_CARRIER_PORT ?? 8091);
export const DEMO_CARRIER_URL = `http://127.0.0.1:${DEMO_CARRIER_PORT}/api/v1`;

export interface FlowsContext {
  maskline: Maskline;
  carrier: VobizSimulator;
  /** The carrier's REST side, or null when its port was taken. */
  rest: VobizRestServer | null;
  appId: string;
  agent: string;
  customer: string;
  stranger: string;
  say(line?: string): void;
  step(n: number, text: string): void;
  describe(call: CallResult): string;
  /** DIDs the demo imported, released when it ends. */
  imported: string[];
}

/** Starts the REST simulator for the demo's account; null (and a note) when the port is taken. */
export async function startDemoCarrier(authId: string, authToken: string, say: (line: string) => void): Promise<VobizRestServer | null> {
  try {
    return await VobizRestServer.start({ port: DEMO_CARRIER_PORT, accounts: [{ authId, authToken }] });
  } catch {
    say(`(The carrier's REST simulator could not listen on 127.0.0.1:${DEMO_CARRIER_PORT}; set MASKLINE_DEMO_CARRIER_PORT.)`);
    return null;
  }
}

const notReachable = (err: unknown) => err instanceof MasklineError && (err.code === "carrier_error" || err.status === 502);

function carrierHint(ctx: FlowsContext, what: string) {
  ctx.say(`   ${what} not shown: the service cannot reach the carrier simulator. Start it with`);
  ctx.say(`   VOBIZ_API_BASE_URL=${DEMO_CARRIER_URL} (and MASKLINE_WEBHOOK_ALLOW_PRIVATE=true) to see it.`);
}

async function clickToCall(ctx: FlowsContext, n: number): Promise<boolean> {
  const { maskline, rest, say } = ctx;
  ctx.step(n, "Click-to-call: the customer taps \"Call my driver\" in the app; Maskline rings the driver first.");
  const session = await maskline.sessions.create({
    participants: [{ number: ctx.agent, label: "driver" }, { number: ctx.customer, label: "customer" }],
    ttlSeconds: 600,
    reference: "order-8813",
  });
  const [driver, customer] = session.participants;
  let placed;
  try {
    placed = await maskline.sessions.placeCall(session.id, { participantId: driver!.id });
  } catch (err) {
    if (!notReachable(err) || !rest) throw err;
    carrierHint(ctx, "Click-to-call");
    await maskline.sessions.close(session.id);
    return true;
  }
  const asked = rest!.requests.filter((r) => r.method === "POST" && r.path.endsWith("/Call/")).at(-1);
  const body = asked?.body as { from?: string } | undefined;
  say(`   POST ${asked?.path} (X-Auth-ID ${String(asked?.headers["x-auth-id"])}): the driver's phone rings showing ${body?.from} (their own DID)`);
  const answered = await rest!.answerPlacedCall(placed.callUuid!);
  say(`   The driver answers. ${ctx.describe(answered)}`);
  say(`   The customer's phone rings showing ${answered.dial?.callerId} (their own DID); they talk for 30 s.`);
  await rest!.completePlacedCall(placed.callUuid!, answered, { dialStatus: "completed", durationSeconds: 30 });
  const call = await maskline.calls.get(placed.id);
  say(`   GET /v1/calls/${call.id}: direction=${call.direction} decision=${call.decision} status=${call.status}`);
  await maskline.sessions.close(session.id);
  return body?.from === driver!.proxyNumber && answered.dial?.callerId === customer!.proxyNumber && answered.dial.numbers[0] === ctx.customer;
}

async function recording(ctx: FlowsContext, n: number): Promise<boolean> {
  const { maskline, carrier, rest, say } = ctx;
  ctx.step(n, "Recording with consent: a support session that records its calls.");
  const session = await maskline.sessions.create({
    participants: [{ number: ctx.agent, label: "support" }, { number: ctx.customer, label: "customer" }],
    recording: true,
    reference: "ticket-42",
  });
  const call = await carrier.placeCall({ from: ctx.customer, to: session.participants[1]!.proxyNumber });
  say(`   The customer dials in: ${call.verbs.map((v) => `<${v.name}>`).join(" → ")}`);
  say(`   They hear: "${(call.speak ?? []).join(" ")}"; the call is recorded (maxLength=${call.record?.maxLength} s).`);
  let ok = call.verbs.map((v) => v.name).join(",") === "Speak,Record,Dial";
  if (!rest) {
    carrierHint(ctx, "The recording's audio");
    await maskline.sessions.close(session.id);
    return ok;
  }
  await carrier.completeCall(call, { dialStatus: "completed", durationSeconds: 12 });
  const posted = await carrier.postRecording(call, rest, { durationMs: 12_000 });
  const found = await firstRecording(maskline, session);
  if (!found) {
    say("   The recording was NOT recorded.");
    return false;
  }
  say(`   Recording ${found.id}: ${found.durationSeconds} s ${found.format}, listed under the session`);
  try {
    const media = await maskline.recordings.media(found.id);
    const stored = rest.recordings.get(posted.recordingId)?.bytes;
    const same = stored !== undefined && Buffer.from(media.data).equals(stored);
    say(`   GET /v1/recordings/${found.id}/media: ${media.data.byteLength} bytes of ${media.contentType}, ${same ? "the very bytes the carrier stored" : "NOT the carrier's bytes"}`);
    ok &&= same;
    await maskline.recordings.delete(found.id);
    const gone = !rest.recordings.has(posted.recordingId);
    say(`   DELETE: gone at the carrier (${gone ? "yes" : "NO"}) and here.`);
    ok &&= gone;
  } catch (err) {
    if (!notReachable(err)) throw err;
    carrierHint(ctx, "The recording's audio");
  }
  await maskline.sessions.close(session.id);
  return ok;
}

async function firstRecording(maskline: Maskline, session: Session) {
  for await (const r of maskline.recordings.list({ sessionId: session.id })) return r;
  return undefined;
}

async function pinLine(ctx: FlowsContext, n: number): Promise<boolean> {
  const { maskline, carrier, say } = ctx;
  ctx.step(n, "A single-number PIN line: one DID for everyone, a PIN each.");
  const line = `+9190${String(20_000_000 + Math.floor(Math.random() * 70_000_000)).padStart(8, "0")}`;
  const imported = await maskline.numbers.create({ appId: ctx.appId, numbers: [line], pool: "pin-line" });
  ctx.imported.push(...imported.data.map((d) => d.id));
  const session = await maskline.sessions.create({
    participants: [{ number: ctx.agent, label: "tutor" }, { number: ctx.customer, label: "student" }],
    routing: "pin",
    pool: "pin-line",
  });
  const [tutor, student] = session.participants;
  say(`   Both dial ${tutor!.proxyNumber}; the student's PIN is ${"•".repeat(student!.pin!.length)} (shown once, to the app)`);
  const prompt = await carrier.placeCall({ from: ctx.customer, to: student!.proxyNumber });
  say(`   The student dials in and hears: "${prompt.gather?.prompt}"`);
  const connected = await carrier.enterDigits(prompt, student!.pin!);
  say(`   They key their PIN. ${ctx.describe(connected)}`);
  await carrier.completeCall(connected, { dialStatus: "completed", durationSeconds: 20 });

  say(`   A stranger tries PINs on the same line:`);
  let last: CallResult | undefined;
  for (let i = 0; i < 3; i++) {
    const guess = await carrier.placeCall({ from: ctx.stranger, to: student!.proxyNumber });
    last = await carrier.enterDigits(guess, "0".repeat(student!.pin!.length - 1) + String(i));
    say(`     guess ${i + 1}: ${ctx.describe(last)}`);
    await carrier.completeCall(last);
  }
  const afterLock = await carrier.enterDigits(await carrier.placeCall({ from: ctx.stranger, to: student!.proxyNumber }), student!.pin!);
  say(`   Even the right PIN now: ${ctx.describe(afterLock)} (locked out of this line for 15 minutes; the student is not)`);
  await maskline.sessions.close(session.id);
  return connected.dial?.numbers[0] === ctx.agent && afterLock.kind === "reject";
}

/** The three flows in turn; false if any of them did not hold. */
export async function runCallFlows(ctx: FlowsContext, firstStep: number): Promise<boolean> {
  const results = [await clickToCall(ctx, firstStep), await recording(ctx, firstStep + 1), await pinLine(ctx, firstStep + 2)];
  return results.every(Boolean);
}
