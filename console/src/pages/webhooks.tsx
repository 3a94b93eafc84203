import { useState } from "preact/hooks";
import type { WebhookEndpoint } from "@maskline/sdk";
import { api, sessionEnded } from "../api";
import { formatDateTime } from "../format";
import { href } from "../router";
import { SecretOnce } from "../secret";
import { Badge, Button, Card, ConfirmButton, Empty, ErrorNotice, Field, ListState, LoadMore, Loading, PageHeader, SuccessNotice, Table, useAsync, usePaged } from "../ui";

function EndpointState(props: { endpoint: WebhookEndpoint }) {
  const e = props.endpoint;
  if (e.enabled) return <Badge tone="good">enabled</Badge>;
  const why = e.disabledReason === "gone" ? "it answered 410 Gone" : e.disabledReason === "failing" ? "no delivery succeeded for 5 days" : "by you";
  return <Badge tone="warn" title={`Disabled: ${why}`}>disabled ({why})</Badge>;
}

export function Webhooks() {
  const endpoints = usePaged(() => api.webhookEndpoints.list({ limit: 50 }), []);
  const [secret, setSecret] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  return (
    <>
      <PageHeader title="Webhook endpoints" description="Where your events are delivered, signed; open one to see which deliveries failed and send them again." />
      {secret && <SecretOnce title="Endpoint created." value={secret} label="the endpoint's signing secret" />}
      {failure !== null && <ErrorNotice error={failure} what="The endpoint was not created." />}
      <Card title="Endpoints">
        <ListState list={endpoints} what="endpoints" empty={<Empty title="No endpoints yet">Add the URL of your event receiver below to get session, call and pool events.</Empty>}>
          {(list) => (
            <Table caption="Webhook endpoints" head={["URL", "Events", "State", "Created"]}>
              {list.map((e) => (
                <tr key={e.id}>
                  <td>
                    <a href={href(`/webhooks/${e.id}`)} class="break">
                      {e.url}
                    </a>
                    {e.description && <div class="muted small">{e.description}</div>}
                  </td>
                  <td>{e.events.length ? e.events.join(", ") : "every type"}</td>
                  <td>
                    <EndpointState endpoint={e} />
                  </td>
                  <td>{formatDateTime(e.createdAt)}</td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={endpoints} />
      </Card>
      <Card title="Add an endpoint">
        <form
          class="form-grid"
          onSubmit={async (ev) => {
            ev.preventDefault();
            const form = ev.currentTarget;
            const data = new FormData(form);
            setBusy(true);
            setFailure(null);
            setSecret(null);
            try {
              const description = String(data.get("description") ?? "").trim();
              const created = await api.webhookEndpoints.create({ url: String(data.get("url")).trim(), ...(description ? { description } : {}) });
              setSecret(created.secret);
              form.reset();
              endpoints.reload();
            } catch (err) {
              if (!sessionEnded(err)) setFailure(err);
            } finally {
              setBusy(false);
            }
          }}
        >
          <Field label="URL" hint="https, reachable from the internet.">
            {(id, hint) => <input id={id} name="url" type="url" required maxLength={2048} placeholder="https://example.com/maskline/events" aria-describedby={hint} />}
          </Field>
          <Field label="Description">{(id) => <input id={id} name="description" maxLength={500} />}</Field>
          <div class="form-actions">
            <Button variant="primary" type="submit" disabled={busy}>
              {busy ? "Adding…" : "Add endpoint"}
            </Button>
          </div>
        </form>
      </Card>
    </>
  );
}

export function WebhookDetail(props: { id: string }) {
  const endpoint = useAsync(() => api.webhookEndpoints.get(props.id), [props.id]);
  const deliveries = usePaged(() => api.webhookEndpoints.listDeliveries(props.id, { limit: 50 }), [props.id]);
  const [secret, setSecret] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const act = async (run: () => Promise<void>) => {
    setFailure(null);
    setNotice(null);
    try {
      await run();
    } catch (err) {
      if (!sessionEnded(err)) setFailure(err);
    }
  };
  if (endpoint.error)
    return (
      <>
        <PageHeader title="Webhook endpoint" />
        <ErrorNotice error={endpoint.error} onRetry={endpoint.reload} what="This endpoint could not be loaded." />
        <a href={href("/webhooks")}>Back to endpoints</a>
      </>
    );
  if (!endpoint.data) return <Loading what="endpoint" />;
  const e = endpoint.data;
  return (
    <>
      <PageHeader
        title="Webhook endpoint"
        description={<span class="break">{e.url}</span>}
        actions={
          <>
            <Button
              onClick={() =>
                act(async () => {
                  await api.webhookEndpoints.update(e.id, { enabled: !e.enabled });
                  setNotice(e.enabled ? "Endpoint disabled: nothing is delivered to it." : "Endpoint enabled.");
                  endpoint.reload();
                })
              }
            >
              {e.enabled ? "Disable" : "Enable"}
            </Button>
            <ConfirmButton
              label="Rotate secret"
              confirm="Rotate? The old secret keeps signing for 24 hours."
              onConfirm={() => act(async () => setSecret((await api.webhookEndpoints.rotateSecret(e.id)).secret))}
            />
          </>
        }
      />
      {secret && <SecretOnce title="New signing secret." value={secret} label="the new signing secret" />}
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="That did not work." />}
      <p>
        <EndpointState endpoint={e} /> {e.events.length ? `Receives ${e.events.join(", ")}.` : "Receives every event type."}
      </p>
      <Card title="Deliveries">
        <ListState list={deliveries} what="deliveries" empty={<Empty title="No deliveries yet">Events are delivered here as sessions and calls happen.</Empty>}>
          {(list) => (
            <Table caption="Deliveries" head={["When", "Event", "Attempt", "Outcome", "Answer", "Time taken", ""]}>
              {list.map((d) => (
                <tr key={d.id}>
                  <td class="nowrap">{formatDateTime(d.createdAt)}</td>
                  <td>
                    {d.eventType}
                    <div class="muted small mono">{d.eventId}</div>
                  </td>
                  <td>{d.attempt}</td>
                  <td>
                    <Badge tone={d.outcome === "succeeded" ? "good" : "bad"}>{d.outcome}</Badge>
                  </td>
                  <td>{d.statusCode ?? <span class="muted">{d.error ?? "no answer"}</span>}</td>
                  <td>{d.durationMs} ms</td>
                  <td class="actions">
                    {d.outcome === "failed" && (
                      <Button
                        class="btn-small"
                        aria-label={`Redeliver event ${d.eventId}`}
                        onClick={() =>
                          act(async () => {
                            const result = await api.events.redeliver(d.eventId);
                            setNotice(`Event queued again for ${result.endpoints} endpoint${result.endpoints === 1 ? "" : "s"}.`);
                            deliveries.reload();
                          })
                        }
                      >
                        Redeliver
                      </Button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={deliveries} />
      </Card>
    </>
  );
}
