import type { Deps } from "../deps.js";
import { notFound } from "../errors.js";
import * as store from "../stores/calls.js";
import { toCall } from "./call-shape.js";

export { startedCall, toCall } from "./call-shape.js";

// Every answered call's row was committed before its reply, so reads need not wait for anything.
export async function listCalls(deps: Pick<Deps, "db">, tenantId: string, filter: store.CallFilter) {
  return store.listCalls(deps.db, tenantId, filter);
}

export async function getCall(deps: Pick<Deps, "db">, tenantId: string, id: string) {
  const row = await store.findCall(deps.db, tenantId, id);
  if (!row) throw notFound("Call");
  return toCall(row);
}
