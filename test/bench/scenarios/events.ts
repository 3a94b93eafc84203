/**
 * What event delivery costs the answer path: answer saturation (closed loop) without endpoints, then with two
 * endpoints subscribed to every event (each answer's `call.started` is delivered twice, by the service's delivery
 * runner, to a receiver in this process answering 204), then without again. The ratio is against the mean of the
 * two runs without, taken in the same run on the same server, so drift and the host's noise fall on both sides.
 * Afterwards: how long the deliveries queued during the run took to drain, and that every one was delivered.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { LoadResult } from "../loadgen.js";
import { runLoad } from "../loadgen-runner.js";
import { scalar } from "../db.js";
import type { ScenarioEnv } from "./types.js";

export interface EventsFigures {
  withoutBefore: LoadResult;
  withEndpoints: LoadResult;
  withoutAfter: LoadResult;
  /** withEndpoints ÷ mean(withoutBefore, withoutAfter) of ok answers per second. */
  ratio: number;
  eventsDuringRun: number;
  deliveriesExpected: number;
  deliveriesReceived: number;
  /** From the end of the run with endpoints until every delivery of its events arrived (or the wait gave up). */
  drainMs: number;
  drained: boolean;
}

async function api(origin: string, apiKey: string, method: string, path: string, body?: unknown) {
  const res = await fetch(origin + path, {
    method,
    headers: { authorization: `Bearer ${apiKey}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status}: ${text.slice(0, 300)}`);
  return text ? (JSON.parse(text) as { id: string }) : undefined;
}

export async function measureEventsOverhead(
  env: ScenarioEnv,
  routes: Array<[string, string]>,
  cfg: { connections: number },
): Promise<EventsFigures> {
  const { origin, tenant, timing, log } = env;
  let received = 0;
  const receiver: Server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received += 1;
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, "127.0.0.1", resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
  const saturation = () =>
    runLoad({
      origin,
      mode: "closed",
      connections: cfg.connections,
      warmupMs: timing.warmupMs,
      durationMs: timing.durationMs,
      timeoutMs: timing.timeoutMs,
      requests: { kind: "answer", url: tenant.answerUrl, authToken: tenant.authToken, routes },
    });
  const countEvents = () => scalar<number>(env.db, "select count(*) from events where tenant_id = $1", [tenant.tenantId]);
  try {
    log("events: answer saturation without endpoints");
    const withoutBefore = await saturation();
    const endpoints = [];
    for (const name of ["a", "b"]) endpoints.push(await api(origin, tenant.apiKey, "POST", "/v1/webhook-endpoints", { url: `${hook}/${name}` }));
    // Let the events of the first run (no subscriber then) be dispatched, so none of them counts below.
    await sleep(2_000);
    const eventsBefore = await countEvents();
    const receivedBefore = received;
    log("events: answer saturation with two endpoints subscribed to every event");
    const withEndpoints = await saturation();
    const ended = performance.now();
    const eventsDuringRun = (await countEvents()) - eventsBefore;
    const deliveriesExpected = 2 * eventsDuringRun;
    while (received - receivedBefore < deliveriesExpected && performance.now() - ended < 120_000) await sleep(100);
    const drainMs = Math.round(performance.now() - ended);
    const deliveriesReceived = received - receivedBefore;
    for (const e of endpoints) await api(origin, tenant.apiKey, "DELETE", `/v1/webhook-endpoints/${e!.id}`);
    log("events: answer saturation without endpoints, again");
    const withoutAfter = await saturation();
    const base = (withoutBefore.okPerSecond + withoutAfter.okPerSecond) / 2;
    return {
      withoutBefore,
      withEndpoints,
      withoutAfter,
      ratio: base > 0 ? withEndpoints.okPerSecond / base : 0,
      eventsDuringRun,
      deliveriesExpected,
      deliveriesReceived,
      drainMs,
      drained: deliveriesReceived >= deliveriesExpected,
    };
  } finally {
    await new Promise<void>((resolve) => receiver.close(() => resolve()));
  }
}
