import type { ApiKey, AuditEvent } from "@maskline/sdk";
import { api } from "../api";
import { formatDateTime } from "../format";
import { href, navigate, useLocation } from "../router";
import { Badge, Button, Card, Empty, Field, ListState, LoadMore, PageHeader, Table, useAsync, usePaged } from "../ui";

function Actor(props: { event: AuditEvent; keys: Map<string, ApiKey> }) {
  const { actor } = props.event;
  const key = actor.apiKeyId ? props.keys.get(actor.apiKeyId) : undefined;
  return (
    <>
      {actor.type === "operator" ? (
        "Operator"
      ) : key ? (
        <>
          {key.name ?? "unnamed key"} <span class="muted small mono nowrap">{key.start}…</span>
        </>
      ) : (
        <span class="mono small break">{actor.apiKeyId}</span>
      )}
      {actor.consoleSessionId && (
        <div>
          <Badge tone="neutral" title={`console session ${actor.consoleSessionId}`}>
            via console
          </Badge>
        </div>
      )}
    </>
  );
}

export function AuditLog(props: { operator?: boolean }) {
  const { query } = useLocation();
  const action = query.get("action") ?? "";
  const resourceId = query.get("resourceId") ?? "";
  const tenantId = query.get("tenantId") ?? "";
  const base = "/audit";
  const list = usePaged(
    () =>
      props.operator
        ? api.admin.auditEvents.list({ limit: 50, ...(action ? { action } : {}), ...(tenantId ? { tenantId } : {}) })
        : api.auditEvents.list({ limit: 50, ...(action ? { action } : {}), ...(resourceId ? { resourceId } : {}) }),
    [action, resourceId, tenantId, props.operator],
  );
  // Names for the keys that acted (a tenant's own keys; the operator's view shows their ids).
  const keys = useAsync(async () => (props.operator ? [] : (await api.apiKeys.list({ limit: 100 })).data), [props.operator]);
  const keyById = new Map((keys.data ?? []).map((k) => [k.id, k]));
  const filtered = Boolean(action || resourceId || tenantId);
  return (
    <>
      <PageHeader title="Audit log" description="Who changed what, when and from where: every change made through the API or this console, append-only." />
      <form
        class="filters"
        aria-label="Filter the audit log"
        onSubmit={(e) => {
          e.preventDefault();
          const data = new FormData(e.currentTarget);
          const get = (k: string) => String(data.get(k) ?? "").trim();
          navigate(href(base, { action: get("action"), resourceId: get("resourceId"), tenantId: get("tenantId") }));
        }}
      >
        <Field label="Action">{(id) => <input id={id} name="action" value={action} placeholder="session.closed" maxLength={64} />}</Field>
        {props.operator ? (
          <Field label="Tenant id">{(id) => <input id={id} name="tenantId" value={tenantId} placeholder="ten_…" maxLength={64} />}</Field>
        ) : (
          <Field label="Resource id">{(id) => <input id={id} name="resourceId" value={resourceId} placeholder="ses_…" maxLength={64} />}</Field>
        )}
        <Button type="submit">Filter</Button>
      </form>
      <Card>
        <ListState
          list={list}
          what="audit events"
          empty={<Empty title={filtered ? "No events match these filters" : "Nothing changed yet"}>{filtered ? <a href={href(base)}>Clear the filters</a> : "Every change made with a key or in this console is recorded here."}</Empty>}
        >
          {(events) => (
            <Table caption="Audit events" head={props.operator ? ["When", "Tenant", "Action", "Resource", "Who", "From", "Request"] : ["When", "Action", "Resource", "Who", "From", "Request"]}>
              {events.map((e) => (
                <tr key={e.id}>
                  <td class="nowrap">{formatDateTime(e.createdAt)}</td>
                  {props.operator && <td class="mono small break">{e.tenantId}</td>}
                  <td>{e.action}</td>
                  <td>
                    {e.resourceType}
                    {e.resourceId && <div class="mono small break">{e.resourceId}</div>}
                  </td>
                  <td>
                    <Actor event={e} keys={keyById} />
                  </td>
                  <td class="mono">{e.ip ?? "—"}</td>
                  <td class="mono small break">{e.requestId}</td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={list} />
      </Card>
    </>
  );
}
