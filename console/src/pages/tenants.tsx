import { useState } from "preact/hooks";
import type { ApiKeyWithSecret, CreateTenantResponse } from "@maskline/sdk";
import { api, sessionEnded } from "../api";
import { formatDateTime, relative, startOfToday, tenantLabel } from "../format";
import { href } from "../router";
import { SecretOnce } from "../secret";
import { Badge, Button, Card, ConfirmButton, Empty, ErrorNotice, Field, ListState, LoadMore, Loading, PageHeader, SuccessNotice, Table, useAsync, usePaged } from "../ui";
import { DecisionChart, UsageFigures } from "./overview";

export function Tenants() {
  const tenants = usePaged(() => api.admin.tenants.list({ limit: 50 }), []);
  const [created, setCreated] = useState<CreateTenantResponse | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [name, setName] = useState("");
  return (
    <>
      <PageHeader title="Tenants" description="Every business on this Maskline service: create one, issue its keys, see its usage." />
      {created && <SecretOnce title={`Created ${tenantLabel(created.tenant.name)}; its first API key:`} value={created.apiKey.secret} label={`the first API key of ${tenantLabel(created.tenant.name)}`} />}
      {failure !== null && <ErrorNotice error={failure} what="The tenant was not created." />}
      <Card title="Create a tenant">
        <form
          class="inline-form"
          onSubmit={async (e) => {
            e.preventDefault();
            setFailure(null);
            try {
              setCreated(await api.admin.tenants.create({ name: name.trim() }));
              setName("");
              tenants.reload();
            } catch (err) {
              if (!sessionEnded(err)) setFailure(err);
            }
          }}
        >
          <Field label="Name">{(id) => <input id={id} required maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
          <Button variant="primary" type="submit">
            Create tenant
          </Button>
        </form>
      </Card>
      <Card title="All tenants">
        <ListState list={tenants} what="tenants" empty={<Empty title="No tenants yet">Create the first one above.</Empty>}>
          {(list) => (
            <Table caption="Tenants" head={["Name", "Id", "Created"]}>
              {list.map((t) => (
                <tr key={t.id}>
                  <td>
                    <a href={href(`/tenants/${t.id}`)}>{tenantLabel(t.name)}</a>
                  </td>
                  <td class="mono">{t.id}</td>
                  <td>{formatDateTime(t.createdAt)}</td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={tenants} />
      </Card>
    </>
  );
}

/** The tenant's name: the operator API lists tenants (newest first) and has no read by id, so look through a few pages. */
async function tenantName(id: string): Promise<string | null> {
  let seen = 0;
  for await (const t of api.admin.tenants.list({ limit: 100 })) {
    if (t.id === id) return t.name;
    if (++seen >= 500) break;
  }
  return null;
}

export function TenantDetail(props: { id: string }) {
  const name$ = useAsync(() => tenantName(props.id), [props.id]);
  const usage = useAsync(() => api.admin.tenants.usage(props.id, { since: startOfToday() }), [props.id]);
  const keys = usePaged(() => api.admin.apiKeys.list(props.id, { limit: 50 }), [props.id]);
  const [created, setCreated] = useState<ApiKeyWithSecret | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [name, setName] = useState("");
  return (
    <>
      <PageHeader title={name$.data !== undefined && name$.data !== null ? `Tenant ${tenantLabel(name$.data)}` : "Tenant"} description={<span class="mono">{props.id}</span>} actions={<a href={href("/audit", { tenantId: props.id })}>Its audit log</a>} />
      {created && <SecretOnce title={`New key ${created.name ?? created.start}.`} value={created.secret} label="the new API key" />}
      {notice && <SuccessNotice>{notice}</SuccessNotice>}
      {failure !== null && <ErrorNotice error={failure} what="That did not work." />}
      {usage.error ? <ErrorNotice error={usage.error} onRetry={usage.reload} what="Usage could not be loaded." /> : !usage.data ? <Loading what="usage" /> : <UsageFigures usage={usage.data} />}
      <div class="grid-2">
        <Card title="Calls today by decision">{usage.data ? <DecisionChart usage={usage.data} /> : <Loading what="calls" />}</Card>
        <Card title="Issue a key">
          <form
            class="inline-form"
            onSubmit={async (e) => {
              e.preventDefault();
              setFailure(null);
              setNotice(null);
              try {
                setCreated(await api.admin.apiKeys.create(props.id, name.trim() ? { name: name.trim() } : {}));
                setName("");
                keys.reload();
              } catch (err) {
                if (!sessionEnded(err)) setFailure(err);
              }
            }}
          >
            <Field label="Key name">{(id) => <input id={id} maxLength={200} value={name} onInput={(e) => setName(e.currentTarget.value)} />}</Field>
            <Button variant="primary" type="submit">
              Issue key
            </Button>
          </form>
        </Card>
      </div>
      <Card title="Keys">
        <ListState list={keys} what="keys" empty={<Empty title="No keys">Issue one above.</Empty>}>
          {(list) => (
            <Table caption="The tenant's API keys" head={["Name", "Starts with", "Created", "Last used", "Status", "Actions"]}>
              {list.map((k) => (
                <tr key={k.id}>
                  <td>{k.name ?? <span class="muted">unnamed</span>}</td>
                  <td class="mono">{k.start}…</td>
                  <td>{formatDateTime(k.createdAt)}</td>
                  <td>{relative(k.lastUsedAt)}</td>
                  <td>{k.revokedAt ? <Badge tone="neutral">revoked</Badge> : <Badge tone="good">active</Badge>}</td>
                  <td class="actions">
                    {!k.revokedAt && (
                      <ConfirmButton
                        label="Revoke"
                        confirm={`Revoke ${k.name ?? k.start}? The tenant's requests and console sessions with it stop at once.`}
                        onConfirm={async () => {
                          setFailure(null);
                          setCreated(null);
                          try {
                            await api.admin.apiKeys.delete(props.id, k.id);
                            setNotice(`Revoked ${k.name ?? k.start}.`);
                            keys.reload();
                          } catch (err) {
                            if (!sessionEnded(err)) setFailure(err);
                          }
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </ListState>
        <LoadMore list={keys} />
      </Card>
    </>
  );
}
