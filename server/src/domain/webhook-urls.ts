/**
 * The exact URLs a tenant pastes into its Vobiz application. The secret rides in the query string: Vobiz
 * signs only the URL without its query, so `k` is a second, independent check that the caller knows the app.
 */
export function webhookUrls(publicBaseUrl: string, appId: string, urlSecret: string) {
  const base = `${publicBaseUrl}/v1/vobiz/${encodeURIComponent(appId)}`;
  const k = `?k=${encodeURIComponent(urlSecret)}`;
  return { answerUrl: `${base}/answer${k}`, hangupUrl: `${base}/hangup${k}`, dialStatusUrl: `${base}/dial-status${k}` };
}
